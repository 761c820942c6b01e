using MailKit.Net.Smtp;
using MimeKit;

namespace MailRelay.Relay.Delivery;

/// <summary>
/// MailKit's client, recording each refused recipient instead of aborting the whole send on the
/// first one, so one bad recipient does not hold up the others.
/// </summary>
public sealed class RecordingSmtpClient : SmtpClient
{
    private readonly Dictionary<string, SmtpResponse> _refused = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>Recipients the server refused during the last send, with its reply.</summary>
    public IReadOnlyDictionary<string, SmtpResponse> Refused => _refused;

    /// <summary>Forget the last send's refusals.</summary>
    public void ResetRecorded() => _refused.Clear();

    /// <inheritdoc />
    protected override void OnRecipientNotAccepted(MimeMessage message, MailboxAddress mailbox, SmtpResponse response) =>
        _refused[mailbox.Address] = response;
}
