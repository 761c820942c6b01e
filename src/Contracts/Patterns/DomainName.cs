using System.Globalization;

namespace MailRelay.Contracts.Patterns;

/// <summary>Normalises domain names to lower-case A-labels (punycode), so Unicode and A-label spellings compare equal.</summary>
public static class DomainName
{
    private static readonly IdnMapping Idn = new() { AllowUnassigned = false, UseStd3AsciiRules = true };

    /// <summary>Returns the lower-case A-label form of <paramref name="domain"/>, or throws <see cref="PatternException"/>.</summary>
    public static string Normalize(string domain)
    {
        var trimmed = domain.Trim().TrimEnd('.');
        if (trimmed.Length == 0)
        {
            throw new PatternException("empty domain");
        }

        string ascii;
        try
        {
            ascii = IsPlainAscii(trimmed) ? trimmed.ToLowerInvariant() : Idn.GetAscii(trimmed).ToLowerInvariant();
        }
        catch (ArgumentException)
        {
            throw new PatternException($"'{domain}' is not a valid domain name");
        }

        if (ascii.Length > 253)
        {
            throw new PatternException($"domain '{domain}' is longer than 253 characters");
        }

        foreach (var label in ascii.Split('.'))
        {
            if (!IsValidLabel(label))
            {
                throw new PatternException($"'{domain}' is not a valid domain name (label '{label}')");
            }
        }

        return ascii;
    }

    /// <summary>Counts the labels of a normalised domain.</summary>
    public static int LabelCount(string normalizedDomain) => normalizedDomain.Count(c => c == '.') + 1;

    private static bool IsPlainAscii(string s)
    {
        foreach (var c in s)
        {
            if (c > 0x7f)
            {
                return false;
            }
        }

        return true;
    }

    private static bool IsValidLabel(string label)
    {
        if (label.Length is 0 or > 63 || label[0] == '-' || label[^1] == '-')
        {
            return false;
        }

        foreach (var c in label)
        {
            if (!(c is >= 'a' and <= 'z' || c is >= '0' and <= '9' || c == '-' || c == '_'))
            {
                return false;
            }
        }

        return true;
    }
}
