namespace MailRelay.Contracts.Patterns;

/// <summary>Ranks of pattern forms for rule 2 and 3 of the route precedence (higher wins).</summary>
public static class Specificities
{
    /// <summary>An empty recipient list: ranks below every pattern.</summary>
    public const int AnyRecipientByEmptyList = -1;

    /// <summary><c>*</c>.</summary>
    public const int Any = 0;

    /// <summary><c>*.domain</c>; the label count of the domain is added.</summary>
    public const int Wildcard = 1_000;

    /// <summary><c>domain</c>.</summary>
    public const int Domain = 2_000;

    /// <summary><c>user@domain</c> and <c>&lt;&gt;</c>.</summary>
    public const int Address = 3_000;

    /// <summary>Words for a rank, for explanations.</summary>
    public static string Describe(int specificity) => specificity switch
    {
        AnyRecipientByEmptyList => "any (empty list)",
        Any => "'*'",
        >= Address => "exact address",
        >= Domain => "domain",
        >= Wildcard => $"wildcard with {specificity - Wildcard} label(s)",
        _ => specificity.ToString(System.Globalization.CultureInfo.InvariantCulture),
    };
}
