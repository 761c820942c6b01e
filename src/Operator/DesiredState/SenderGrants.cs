using System.Text.RegularExpressions;
using k8s.Models;
using MailRelay.Contracts.Clients;
using MailRelay.Contracts.Patterns;
using MailRelay.Contracts.RoutingTable;
using MailRelay.Operator.Entities;

namespace MailRelay.Operator.DesiredState;

/// <summary>
/// Tenancy, pure: which sender patterns a namespace's MailRoutes may claim. MailRoutes in the
/// trusted namespaces may claim anything (<c>*</c> and <c>&lt;&gt;</c> included); any other
/// namespace only <c>user@d</c>, <c>d</c> and <c>*.d</c> inside a MailDomain granted to it
/// (by <c>namespaces</c> or <c>namespaceSelector</c>): d its domain, or a subdomain of it when
/// <c>subdomains</c> is true (<c>*.d</c> needs <c>subdomains</c> too). Recipient patterns are not
/// restricted. Domains compare in A-label form, so Unicode and A-label spellings are one domain.
/// Overlapping MailDomains: the older (creationTimestamp, then name) is in effect, a newer one
/// that covers any of the same domains grants nothing and is Ready=False Overlapping naming the
/// older; so the grants in effect never overlap and every domain has at most one owner.
/// </summary>
public sealed partial class SenderGrants
{
    private static readonly IReadOnlyDictionary<string, string> NoLabels = new Dictionary<string, string>();

    private readonly IReadOnlyList<Grant> _effective;
    private readonly IReadOnlyDictionary<string, IReadOnlyDictionary<string, string>> _namespaceLabels;
    private readonly IReadOnlySet<string> _trusted;

    private SenderGrants(IReadOnlyList<Grant> effective, IReadOnlyList<DomainVerdict> verdicts, IReadOnlyDictionary<string, IReadOnlyDictionary<string, string>> namespaceLabels, IReadOnlySet<string> trusted)
    {
        _effective = effective;
        Verdicts = verdicts;
        _namespaceLabels = namespaceLabels;
        _trusted = trusted;
    }

    /// <summary>One verdict per MailDomain, ordered by name.</summary>
    public IReadOnlyList<DomainVerdict> Verdicts { get; }

    /// <summary>The grants of a snapshot.</summary>
    public static SenderGrants Evaluate(ClusterSnapshot snapshot) =>
        Evaluate(snapshot.Domains, snapshot.NamespaceLabels, snapshot.TrustedNamespaces);

    /// <summary>
    /// Judges the MailDomains and keeps the grants in effect. <paramref name="namespaceLabels"/>
    /// holds the labels of the namespaces known; a namespace absent from it has unknown labels
    /// (offline render) and is selected by no namespaceSelector.
    /// </summary>
    public static SenderGrants Evaluate(
        IReadOnlyList<MailDomain> domains,
        IReadOnlyDictionary<string, IReadOnlyDictionary<string, string>> namespaceLabels,
        IReadOnlySet<string> trusted)
    {
        var effective = new List<Grant>();
        var verdicts = new Dictionary<string, DomainVerdict>(StringComparer.Ordinal);
        var overlappedBy = new Dictionary<string, List<string>>(StringComparer.Ordinal);

        // Oldest first: the older of two overlapping MailDomains stays in effect.
        foreach (var domain in domains
                     .OrderBy(d => d.Metadata.CreationTimestamp ?? DateTime.MaxValue)
                     .ThenBy(d => d.Metadata.Name, StringComparer.Ordinal))
        {
            var name = domain.Metadata.Name;
            var generation = domain.Metadata.Generation ?? 0;
            var (grant, problems) = Parse(domain);
            if (grant is null)
            {
                verdicts[name] = new DomainVerdict(name, generation, false, ConditionReasons.InvalidSpec, string.Join("; ", problems) + "; this MailDomain grants nothing");
                continue;
            }

            var older = effective.Where(e => e.Overlaps(grant)).ToList();
            if (older.Count > 0)
            {
                var tie = older.Any(o => o.Created == grant.Created) ? " (created in the same second: the tie was broken by name)" : string.Empty;
                verdicts[name] = new DomainVerdict(name, generation, false, ConditionReasons.Overlapping,
                    $"{grant.Coverage()} overlaps older MailDomain {string.Join(", ", older.Select(o => $"{o.Name} ({o.Coverage()})"))}{tie}; " +
                    "this MailDomain grants nothing until the overlap is resolved (delete one, or set subdomains: false on the wider one)");
                foreach (var o in older)
                {
                    overlappedBy.TryAdd(o.Name, []);
                    overlappedBy[o.Name].Add(name);
                }

                continue;
            }

            effective.Add(grant);
        }

        foreach (var grant in effective)
        {
            var note = overlappedBy.TryGetValue(grant.Name, out var newer)
                ? (newer.Count == 1
                    ? $"; newer MailDomain {newer[0]} overlaps it and is not in effect"
                    : $"; newer MailDomains {string.Join(", ", newer)} overlap it and are not in effect")
                : string.Empty;
            verdicts[grant.Name] = new DomainVerdict(grant.Name, grant.Generation, true, ConditionReasons.Ready, grant.Describe() + note);
        }

        return new SenderGrants(
            effective,
            verdicts.Values.OrderBy(v => v.Name, StringComparer.Ordinal).ToList(),
            namespaceLabels,
            trusted);
    }

    /// <summary>
    /// Null when a MailRoute in <paramref name="namespace"/> may claim all of <paramref name="route"/>'s
    /// sender patterns, else the NotPermitted message naming each pattern that is not granted.
    /// </summary>
    public string? Refusal(string @namespace, Route route)
    {
        if (_trusted.Contains(@namespace))
        {
            return null;
        }

        var refusals = route.Senders.Select(p => Refusal(@namespace, p)).OfType<string>().ToList();
        return refusals.Count == 0
            ? null
            : string.Join("; ", refusals) + "; this route is not programmed";
    }

    /// <summary>Every domain a MailDomain in effect covers (whoever it is granted to), by domain.</summary>
    public IReadOnlyList<DomainGrant> Covered =>
        _effective.Select(g => new DomainGrant(g.Domain, g.Subdomains)).OrderBy(g => g.Domain, StringComparer.Ordinal).ToList();

    /// <summary>True when <paramref name="namespace"/> is trusted (<c>--trusted-namespaces</c>).</summary>
    public bool IsTrusted(string @namespace) => _trusted.Contains(@namespace);

    /// <summary>The domains granted to <paramref name="namespace"/> (by <c>namespaces</c> or <c>namespaceSelector</c>), by domain.</summary>
    public IReadOnlyList<DomainGrant> GrantsOf(string @namespace) =>
        _effective.Where(g => GrantedTo(g, @namespace)).Select(g => new DomainGrant(g.Domain, g.Subdomains)).OrderBy(g => g.Domain, StringComparer.Ordinal).ToList();

    private string? Refusal(string @namespace, AddressPattern pattern)
    {
        var trustedOnly = $"only MailRoutes in the trusted namespaces ({string.Join(", ", _trusted.Order(StringComparer.Ordinal))}) may claim it";
        switch (pattern.Kind)
        {
            case PatternKind.Any:
                return $"sender '*' (every sender) is not permitted in namespace {@namespace}: {trustedOnly}";
            case PatternKind.NullSender:
                return $"sender '<>' (the null sender: bounces) is not permitted in namespace {@namespace}: {trustedOnly}";
        }

        var wildcard = pattern.Kind == PatternKind.Wildcard;
        var domain = pattern.Kind == PatternKind.Address ? pattern.Value[(pattern.Value.LastIndexOf('@') + 1)..] : pattern.Value;
        var granted = _effective.Where(g => GrantedTo(g, @namespace)).ToList();
        if (granted.Any(g => wildcard ? g.CoversSubdomainsOf(domain) : g.Covers(domain)))
        {
            return null;
        }

        var text = $"sender '{pattern}' is not permitted in namespace {@namespace}: ";
        if (_effective.FirstOrDefault(g => g.Covers(domain)) is not { } owner)
        {
            return text + $"no MailDomain grants {(wildcard ? "every subdomain of " : string.Empty)}{domain} to it";
        }

        if (granted.Contains(owner))
        {
            // *.d with a grant of d without its subdomains
            return text + $"MailDomain {owner.Name} grants {owner.Domain} without its subdomains";
        }

        var unknownLabels = !LabelSelectors.IsEmpty(owner.Selector) && !_namespaceLabels.ContainsKey(@namespace)
            ? $" (the labels of namespace {@namespace} are unknown, so its namespaceSelector {LabelSelectors.Describe(owner.Selector)} was not matched)"
            : string.Empty;
        return text + $"{domain} belongs to MailDomain {owner.Name}, which does not grant it to namespace {@namespace}{unknownLabels}";
    }

    private bool GrantedTo(Grant grant, string @namespace) =>
        grant.Namespaces.Contains(@namespace)
        || (_namespaceLabels.TryGetValue(@namespace, out var labels) && LabelSelectors.Matches(grant.Selector, labels ?? NoLabels));

    private static (Grant? Grant, IReadOnlyList<string> Problems) Parse(MailDomain domain)
    {
        var spec = domain.Spec;
        var problems = new List<string>();
        string? normalized = null;
        var text = spec.Domain?.Trim() ?? string.Empty;
        if (text.Length == 0)
        {
            problems.Add("spec.domain is empty");
        }
        else if (text.Contains('*') || text.Contains('@'))
        {
            problems.Add($"spec.domain '{text}' is not a domain name (no '*' or '@': subdomains: true covers the subdomains)");
        }
        else
        {
            try
            {
                normalized = DomainName.Normalize(text);
            }
            catch (PatternException e)
            {
                problems.Add("spec.domain: " + e.Message);
            }
        }

        foreach (var ns in spec.Namespaces ?? [])
        {
            if (!NamespaceName().IsMatch(ns))
            {
                problems.Add($"spec.namespaces: '{ns}' is not a namespace name");
            }
        }

        problems.AddRange(LabelSelectors.Problems(spec.NamespaceSelector).Select(p => "spec.namespaceSelector: " + p));
        if (problems.Count > 0 || normalized is null)
        {
            return (null, problems);
        }

        return (new Grant(
            domain.Metadata.Name,
            domain.Metadata.Generation ?? 0,
            domain.Metadata.CreationTimestamp,
            normalized,
            spec.Subdomains ?? true,
            (spec.Namespaces ?? []).ToHashSet(StringComparer.Ordinal),
            LabelSelectors.IsEmpty(spec.NamespaceSelector) ? null : spec.NamespaceSelector,
            spec.NamespaceSelector is not null && LabelSelectors.IsEmpty(spec.NamespaceSelector)), problems);
    }

    [GeneratedRegex("^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")]
    private static partial Regex NamespaceName();

    /// <summary>A MailDomain in effect: the domain (A-label), whether subdomains are covered, and to whom.</summary>
    private sealed record Grant(string Name, long Generation, DateTime? Created, string Domain, bool Subdomains, IReadOnlySet<string> Namespaces, V1LabelSelector? Selector, bool EmptySelector)
    {
        /// <summary>True when addresses at <paramref name="domain"/> are inside this grant.</summary>
        public bool Covers(string domain) => domain == Domain || (Subdomains && IsSubdomain(domain, Domain));

        /// <summary>True when every subdomain of <paramref name="domain"/> is inside this grant (a <c>*.domain</c> pattern).</summary>
        public bool CoversSubdomainsOf(string domain) => Subdomains && (domain == Domain || IsSubdomain(domain, Domain));

        /// <summary>True when some domain is inside both grants.</summary>
        public bool Overlaps(Grant other) => Covers(other.Domain) || other.Covers(Domain);

        /// <summary><c>example.com and its subdomains</c>.</summary>
        public string Coverage() => Subdomains ? $"{Domain} and its subdomains" : $"{Domain} (without subdomains)";

        /// <summary>The Ready message: what is granted to whom.</summary>
        public string Describe()
        {
            var to = new List<string>();
            if (Namespaces.Count > 0)
            {
                to.Add((Namespaces.Count == 1 ? "namespace " : "namespaces ") + string.Join(", ", Namespaces.Order(StringComparer.Ordinal)));
            }

            if (Selector is not null)
            {
                to.Add($"namespaces labelled {LabelSelectors.Describe(Selector)}");
            }

            var text = to.Count == 0
                ? $"reserves {Coverage()}: granted to no namespace, so only MailRoutes in the trusted namespaces may claim it"
                : $"grants {Coverage()} to {string.Join(" and ", to)}";
            return EmptySelector ? text + "; namespaceSelector {} selects no namespace (an empty selector is not 'every namespace' here)" : text;
        }

        private static bool IsSubdomain(string domain, string parent) =>
            domain.Length > parent.Length + 1 && domain.EndsWith(parent, StringComparison.Ordinal) && domain[domain.Length - parent.Length - 1] == '.';
    }
}
