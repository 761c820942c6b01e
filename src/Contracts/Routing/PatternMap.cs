using MailRelay.Contracts.Patterns;

namespace MailRelay.Contracts.Routing;

/// <summary>
/// Values keyed by address pattern, so that finding every value whose pattern matches an address
/// allocates nothing and probes one hash table once per label of the address's domain: exact
/// addresses, domains and wildcards (<c>*.domain</c>) hang off one node per domain name, looked up
/// by spans of the address's domain (no substrings, no prefixed key strings); <c>*</c> and
/// <c>&lt;&gt;</c> are fields.
/// </summary>
/// <typeparam name="T">The value kept per pattern.</typeparam>
internal sealed class PatternMap<T>
    where T : class, new()
{
    // Created on first use: an index holds one map per sender pattern, most of them with one pattern.
    private Dictionary<string, Node>? _nodes;
    private Dictionary<string, Node>.AlternateLookup<ReadOnlySpan<char>> _nodesBySpan;

    // Bit n set: some domain of n labels has addresses or the domain itself (exact), or a wildcard
    // (bit 63: 63 labels or more). A probe for a label count no pattern has is skipped: in a large
    // table that saves a cold hash-table miss.
    private ulong _exactLabels;
    private ulong _wildcardLabels;
    private T? _any;
    private T? _nullSender;

    /// <summary>The value of <paramref name="pattern"/>, created when absent.</summary>
    public T GetOrAdd(AddressPattern pattern)
    {
        switch (pattern.Kind)
        {
            case PatternKind.Any:
                return _any ??= new T();
            case PatternKind.NullSender:
                return _nullSender ??= new T();
            case PatternKind.Address:
                var at = pattern.Value.LastIndexOf('@');
                _exactLabels |= LabelBit(pattern.Value.AsSpan(at + 1));
                var locals = NodeOf(pattern.Value[(at + 1)..]).Locals ??= new Dictionary<string, T>(StringComparer.Ordinal);
                var local = pattern.Value[..at];
                if (!locals.TryGetValue(local, out var value))
                {
                    locals[local] = value = new T();
                }

                return value;
            case PatternKind.Domain:
                _exactLabels |= LabelBit(pattern.Value);
                return NodeOf(pattern.Value).Domain ??= new T();
            default:
                _wildcardLabels |= LabelBit(pattern.Value);
                return NodeOf(pattern.Value).Wildcard ??= new T();
        }
    }

    /// <summary>Every value whose pattern matches <paramref name="address"/>; a struct enumerator, for <c>foreach</c>.</summary>
    public Matches Matching(EnvelopeAddress address) => new(this, address);

    /// <summary>Applies <paramref name="update"/> to every value (after building).</summary>
    public void ForEach(Action<T> update)
    {
        foreach (var node in _nodes?.Values ?? Enumerable.Empty<Node>())
        {
            foreach (var value in node.Locals?.Values ?? Enumerable.Empty<T>())
            {
                update(value);
            }

            Apply(node.Domain, update);
            Apply(node.Wildcard, update);
        }

        Apply(_any, update);
        Apply(_nullSender, update);
    }

    private static ulong LabelBit(ReadOnlySpan<char> domain) => LabelBit(domain.Count('.') + 1);

    private static ulong LabelBit(int labels) => 1UL << Math.Min(labels, 63);

    private static void Apply(T? value, Action<T> update)
    {
        if (value is not null)
        {
            update(value);
        }
    }

    private Node NodeOf(string domain)
    {
        if (_nodes is null)
        {
            _nodes = new Dictionary<string, Node>(StringComparer.Ordinal);
            _nodesBySpan = _nodes.GetAlternateLookup<ReadOnlySpan<char>>();
        }

        if (!_nodes.TryGetValue(domain, out var node))
        {
            _nodes[domain] = node = new Node();
        }

        return node;
    }

    /// <summary>The patterns on one domain name: its exact addresses by local part, the domain itself, <c>*.</c> the domain.</summary>
    private sealed class Node
    {
        public Dictionary<string, T>? Locals { get; set; }

        public T? Domain { get; set; }

        public T? Wildcard { get; set; }
    }

    /// <summary>
    /// The probes: <c>&lt;&gt;</c> and <c>*</c> for the null sender; otherwise the address and its
    /// domain (one node), the wildcard of each parent domain (nearest first), <c>*</c>.
    /// </summary>
    public struct Matches(PatternMap<T> map, EnvelopeAddress address)
    {
        private const int AddressStage = 0;
        private const int DomainStage = 1;
        private const int WildcardStage = 2;
        private const int AnyStage = 3;
        private const int NullStage = 4;
        private const int Done = 5;

        private int _stage = address.IsNull ? NullStage : AddressStage;
        private int _dot = -1;
        private int _labels = address.Domain.AsSpan().Count('.') + 1; // of the domain (the address's, then each parent's)
        private Node? _node;

        /// <summary>The current match.</summary>
        public T Current { get; private set; } = null!;

        /// <summary>Returns this enumerator, for <c>foreach</c>.</summary>
        public readonly Matches GetEnumerator() => this;

        /// <summary>Advances to the next matching value.</summary>
        public bool MoveNext()
        {
            while (_stage != Done)
            {
                T? found = null;
                switch (_stage)
                {
                    case NullStage:
                        found = map._nullSender;
                        _stage = AnyStage;
                        break;
                    case AddressStage:
                        if ((map._exactLabels & LabelBit(_labels)) == 0 || !map._nodes!.TryGetValue(address.Domain, out _node))
                        {
                            _stage = WildcardStage;
                            break;
                        }

                        _node.Locals?.TryGetValue(address.LocalPart, out found);
                        _stage = DomainStage;
                        break;
                    case DomainStage:
                        found = _node!.Domain;
                        _stage = WildcardStage;
                        break;
                    case WildcardStage:
                        var domain = address.Domain;
                        _dot = map._wildcardLabels == 0 ? -1 : domain.IndexOf('.', _dot + 1);
                        if (_dot < 0)
                        {
                            _stage = AnyStage;
                            break;
                        }

                        _labels--;
                        if ((map._wildcardLabels & LabelBit(_labels)) != 0
                            && map._nodesBySpan.TryGetValue(domain.AsSpan(_dot + 1), out var parent))
                        {
                            found = parent.Wildcard;
                        }

                        break;
                    default:
                        found = map._any;
                        _stage = Done;
                        break;
                }

                if (found is not null)
                {
                    Current = found;
                    return true;
                }
            }

            return false;
        }
    }
}
