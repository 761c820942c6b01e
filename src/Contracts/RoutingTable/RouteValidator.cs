using System.Globalization;
using System.Text.RegularExpressions;
using MailRelay.Contracts.Patterns;

namespace MailRelay.Contracts.RoutingTable;

/// <summary>
/// The route rules of docs/api.md that a schema cannot express, in one place: the relay checks its
/// routing table with them and the operator reports their messages as <c>InvalidSpec</c>.
/// </summary>
public static partial class RouteValidator
{
    /// <summary>Most sender or recipient patterns in one route.</summary>
    public const int MaxPatterns = 100;

    /// <summary>Lowest priority.</summary>
    public const int MinPriority = -1000;

    /// <summary>Highest priority.</summary>
    public const int MaxPriority = 1000;

    /// <summary>Validates <paramref name="doc"/>; returns the route, or null with the reasons added to <paramref name="errors"/>.</summary>
    public static Route? Validate(RouteDocument doc, List<string> errors)
    {
        var before = errors.Count;
        var name = doc.Name ?? string.Empty;
        if (name.Length == 0)
        {
            errors.Add("name is required");
        }

        if (doc.Priority is < MinPriority or > MaxPriority)
        {
            errors.Add($"priority {doc.Priority} is outside {MinPriority}..{MaxPriority}");
        }

        var created = DateTimeOffset.UnixEpoch;
        if (doc.Created is { Length: > 0 } createdText
            && !DateTimeOffset.TryParse(createdText, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out created))
        {
            errors.Add($"created '{createdText}' is not an RFC 3339 time");
        }

        var senders = ParsePatterns("senders", doc.Senders, allowNullSender: true, required: true, errors);
        var recipients = ParsePatterns("recipients", doc.Recipients, allowNullSender: false, required: false, errors);

        var actions = (doc.Relay is null ? 0 : 1) + (doc.Direct is null ? 0 : 1) + (doc.Reject is null ? 0 : 1) + (doc.Hold is null ? 0 : 1);
        if (actions != 1)
        {
            // hold is written by the operator, never by users (a MailRoute has no hold): named only when present
            errors.Add($"exactly one of relay, direct or reject{(doc.Hold is null ? string.Empty : " (or hold)")} must be set ({actions} are)");
        }

        RelayTarget? relay = null;
        if (doc.Relay is { } r)
        {
            relay = ValidateRelay(r, errors);
        }

        if (errors.Count > before)
        {
            return null;
        }

        var action = relay is not null ? RouteAction.Relay
            : doc.Direct is not null ? RouteAction.Direct
            : doc.Hold is not null ? RouteAction.Hold
            : RouteAction.Reject;
        var rejectMessage = action == RouteAction.Reject
            ? (string.IsNullOrWhiteSpace(doc.Reject!.Message) ? Route.DefaultRejectMessage : doc.Reject.Message.Trim())
            : null;
        var holdReason = action == RouteAction.Hold ? NormalizeHoldReason(doc.Hold!.Reason) : null;
        return new Route(name, doc.Priority, created.ToUniversalTime(), senders, recipients, action, relay, rejectMessage, holdReason);
    }

    /// <summary>A hold reason on one line (it ends up in queue files, logs and bounces), the default when empty.</summary>
    public static string NormalizeHoldReason(string? reason)
    {
        if (string.IsNullOrWhiteSpace(reason))
        {
            return Route.DefaultHoldReason;
        }

        return string.Join(' ', reason.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries));
    }

    /// <summary>True when <paramref name="name"/> can name a credential (a Secret key prefix).</summary>
    public static bool IsValidCredentialName(string name) => CredentialNamePattern().IsMatch(name);

    private static RelayTarget? ValidateRelay(RelayDocument r, List<string> errors)
    {
        var ok = true;
        if (string.IsNullOrWhiteSpace(r.Host) || r.Host.Any(char.IsWhiteSpace))
        {
            errors.Add("relay.host is required and may not contain white space");
            ok = false;
        }

        var port = r.Port ?? RelayTarget.DefaultPort;
        if (port is < 1 or > 65535)
        {
            errors.Add($"relay.port {port} is outside 1..65535");
            ok = false;
        }

        var tls = TlsLevel.Verify;
        if (r.Tls is { } tlsText
            && (tlsText.Length == 0 || char.IsDigit(tlsText[0]) || !Enum.TryParse(tlsText, ignoreCase: false, out tls) || !Enum.IsDefined(tls)))
        {
            errors.Add($"relay.tls '{r.Tls}' is not one of Verify, Encrypt, Opportunistic, None");
            ok = false;
        }

        if (r.Credential is { } cred)
        {
            if (!IsValidCredentialName(cred))
            {
                errors.Add($"relay.credential '{cred}' may only hold letters, digits, '-', '_' and '.'");
                ok = false;
            }

            if (tls is TlsLevel.Opportunistic or TlsLevel.None)
            {
                errors.Add($"a credential with tls {tls} is refused: credentials are never sent over an unencrypted connection (use Verify or Encrypt)");
                ok = false;
            }
        }

        if (r.MaxRecipients is < 1 or > RelayTarget.MaxRecipientsLimit)
        {
            errors.Add($"relay.maxRecipients {r.MaxRecipients} is outside 1..{RelayTarget.MaxRecipientsLimit}");
            ok = false;
        }

        return ok ? new RelayTarget(r.Host!.Trim().ToLowerInvariant(), port, tls, r.Credential, r.MaxRecipients) : null;
    }

    private static List<AddressPattern> ParsePatterns(string field, List<string>? texts, bool allowNullSender, bool required, List<string> errors)
    {
        var result = new List<AddressPattern>();
        if (texts is null || texts.Count == 0)
        {
            if (required)
            {
                errors.Add($"{field}: at least one pattern is required");
            }

            return result;
        }

        if (texts.Count > MaxPatterns)
        {
            errors.Add($"{field}: {texts.Count} patterns, at most {MaxPatterns} are allowed");
        }

        for (var i = 0; i < texts.Count; i++)
        {
            try
            {
                var pattern = AddressPattern.Parse(texts[i] ?? string.Empty, allowNullSender);
                if (!result.Contains(pattern))
                {
                    result.Add(pattern);
                }
            }
            catch (PatternException e)
            {
                errors.Add($"{field}[{i}]: {e.Message}");
            }
        }

        return result;
    }

    [GeneratedRegex("^[A-Za-z0-9_][A-Za-z0-9_.-]{0,200}$")]
    private static partial Regex CredentialNamePattern();
}
