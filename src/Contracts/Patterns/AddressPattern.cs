namespace MailRelay.Contracts.Patterns;

/// <summary>
/// One sender or recipient pattern of a MailRoute: <c>user@domain</c>, <c>domain</c>,
/// <c>*.domain</c>, <c>&lt;&gt;</c> or <c>*</c>, normalised (lower case, A-labels).
/// </summary>
public sealed record AddressPattern
{
    private AddressPattern(PatternKind kind, string value)
    {
        Kind = kind;
        Value = value;
    }

    /// <summary>Which of the five forms this is.</summary>
    public PatternKind Kind { get; }

    /// <summary>
    /// The normalised key: the address for <see cref="PatternKind.Address"/>, the domain for
    /// <see cref="PatternKind.Domain"/> and <see cref="PatternKind.Wildcard"/> (without <c>*.</c>), empty otherwise.
    /// </summary>
    public string Value { get; }

    /// <summary>
    /// Rank for precedence: address (and <c>&lt;&gt;</c>) &gt; domain &gt; wildcard, more labels first, &gt; <c>*</c>.
    /// </summary>
    public int Specificity => Kind switch
    {
        PatternKind.Address or PatternKind.NullSender => Specificities.Address,
        PatternKind.Domain => Specificities.Domain,
        PatternKind.Wildcard => Specificities.Wildcard + DomainName.LabelCount(Value),
        _ => Specificities.Any,
    };

    /// <summary>Parses a pattern; <paramref name="allowNullSender"/> is false for recipients.</summary>
    public static AddressPattern Parse(string pattern, bool allowNullSender = true)
    {
        var text = pattern.Trim();
        switch (text)
        {
            case "":
                throw new PatternException("empty pattern");
            case "*":
                return new AddressPattern(PatternKind.Any, string.Empty);
            case "<>":
                return allowNullSender
                    ? new AddressPattern(PatternKind.NullSender, string.Empty)
                    : throw new PatternException("'<>' (the null sender) is only valid as a sender pattern");
        }

        if (text.StartsWith("*.", StringComparison.Ordinal))
        {
            return new AddressPattern(PatternKind.Wildcard, DomainName.Normalize(text[2..]));
        }

        if (text.Contains('*'))
        {
            throw new PatternException($"'{pattern}': '*' is only allowed alone or as a leading '*.' label");
        }

        if (text.Contains('@'))
        {
            var address = EnvelopeAddress.Parse(text);
            return new AddressPattern(PatternKind.Address, address.Normalized);
        }

        return new AddressPattern(PatternKind.Domain, DomainName.Normalize(text));
    }

    /// <summary>True when <paramref name="address"/> is matched by this pattern.</summary>
    public bool Matches(EnvelopeAddress address) => Kind switch
    {
        PatternKind.Any => true,
        PatternKind.NullSender => address.IsNull,
        PatternKind.Address => !address.IsNull && address.Normalized == Value,
        PatternKind.Domain => !address.IsNull && address.Domain == Value,
        PatternKind.Wildcard => !address.IsNull
            && address.Domain.Length > Value.Length
            && address.Domain.EndsWith(Value, StringComparison.Ordinal)
            && address.Domain[address.Domain.Length - Value.Length - 1] == '.',
        _ => false,
    };

    /// <summary>The canonical text form, as written in the routing table.</summary>
    public override string ToString() => Kind switch
    {
        PatternKind.Any => "*",
        PatternKind.NullSender => "<>",
        PatternKind.Wildcard => "*." + Value,
        _ => Value,
    };
}
