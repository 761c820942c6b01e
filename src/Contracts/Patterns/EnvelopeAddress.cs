namespace MailRelay.Contracts.Patterns;

/// <summary>
/// An envelope address (MAIL FROM or RCPT TO) normalised for routing: local part lower-cased,
/// domain in lower-case A-label form. The null sender is <see cref="Null"/>.
/// </summary>
public sealed record EnvelopeAddress(string LocalPart, string Domain)
{
    /// <summary>The null reverse-path <c>&lt;&gt;</c>.</summary>
    public static readonly EnvelopeAddress Null = new(string.Empty, string.Empty);

    /// <summary>True for the null sender.</summary>
    public bool IsNull => LocalPart.Length == 0 && Domain.Length == 0;

    /// <summary>The normalised <c>local@domain</c> form, or empty for the null sender.</summary>
    public string Normalized => IsNull ? string.Empty : $"{LocalPart}@{Domain}";

    /// <summary>Parses <c>user@domain</c>, <c>&lt;user@domain&gt;</c>, or an empty / <c>&lt;&gt;</c> null sender.</summary>
    public static EnvelopeAddress Parse(string address)
    {
        var text = address.Trim();
        if (text.StartsWith('<') && text.EndsWith('>'))
        {
            text = text[1..^1].Trim();
        }

        if (text.Length == 0)
        {
            return Null;
        }

        var at = text.LastIndexOf('@');
        if (at <= 0 || at == text.Length - 1)
        {
            throw new PatternException($"'{address}' is not an address of the form user@domain");
        }

        var local = text[..at];
        foreach (var c in local)
        {
            if (char.IsWhiteSpace(c) || char.IsControl(c))
            {
                throw new PatternException($"'{address}' has white space or a control character in its local part");
            }
        }

        return new EnvelopeAddress(local.ToLowerInvariant(), DomainName.Normalize(text[(at + 1)..]));
    }

    /// <inheritdoc />
    public override string ToString() => IsNull ? "<>" : Normalized;
}
