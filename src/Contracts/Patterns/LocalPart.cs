using System.Text;

namespace MailRelay.Contracts.Patterns;

/// <summary>RFC 5321 local parts: a dot-string as it is, anything else as a quoted string.</summary>
public static class LocalPart
{
    /// <summary>
    /// <paramref name="local"/> in the form it takes in an address: unchanged when it is a
    /// dot-string (atoms of atext joined by single dots), else quoted with <c>"</c> and <c>\</c> escaped.
    /// </summary>
    public static string Quote(string local)
    {
        if (IsDotString(local))
        {
            return local;
        }

        var quoted = new StringBuilder(local.Length + 2).Append('"');
        foreach (var c in local)
        {
            if (c is '"' or '\\')
            {
                quoted.Append('\\');
            }

            quoted.Append(c);
        }

        return quoted.Append('"').ToString();
    }

    /// <summary>True for a dot-string: <c>atom *("." atom)</c>.</summary>
    public static bool IsDotString(string local)
    {
        if (local.Length == 0 || local[0] == '.' || local[^1] == '.' || local.Contains("..", StringComparison.Ordinal))
        {
            return false;
        }

        foreach (var c in local)
        {
            if (!(char.IsAsciiLetterOrDigit(c) || c == '.' || "!#$%&'*+-/=?^_`{|}~".Contains(c) || c > 127))
            {
                return false;
            }
        }

        return true;
    }
}
