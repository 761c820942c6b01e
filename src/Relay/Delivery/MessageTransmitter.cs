using MailKit.Net.Smtp;
using MimeKit;

namespace MailRelay.Relay.Delivery;

/// <summary>
/// Sends a spooled message over a connected client: the bytes exactly as spooled (MimeKit keeps
/// raw headers and bodies of a parsed message; nothing is modified), to each recipient.
/// </summary>
public static class MessageTransmitter
{
    /// <summary>Sends and returns a result per recipient. Throws on connection-level or whole-message failures.</summary>
    public static async Task<IReadOnlyList<RecipientResult>> SendAsync(RecordingSmtpClient client, DeliveryRequest request, CancellationToken ct)
    {
        await using var stream = new FileStream(request.MessagePath, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.Asynchronous);
        using var message = await MimeMessage.LoadAsync(stream, persistent: true, ct);
        var sender = new MailboxAddress(string.Empty, request.Sender);
        var recipients = request.Recipients.Select(r => new MailboxAddress(string.Empty, r)).ToList();

        client.ResetRecorded();
        string reply;
        try
        {
            reply = await client.SendAsync(message, sender, recipients, ct);
        }
        catch (SmtpCommandException e) when (e.ErrorCode == SmtpErrorCode.RecipientNotAccepted && client.Refused.Count == recipients.Count)
        {
            return Refusals(client, request);
        }

        var results = new List<RecipientResult>(Refusals(client, request));
        foreach (var r in request.Recipients)
        {
            if (!client.Refused.ContainsKey(r))
            {
                results.Add(RecipientResult.Delivered(r, reply));
            }
        }

        return results;
    }

    private static IReadOnlyList<RecipientResult> Refusals(RecordingSmtpClient client, DeliveryRequest request) =>
        request.Recipients
            .Where(r => client.Refused.ContainsKey(r))
            .Select(r =>
            {
                var response = client.Refused[r];
                var detail = $"{(int)response.StatusCode} {response.Response}";
                return (int)response.StatusCode >= 500 ? RecipientResult.Failed(r, detail) : RecipientResult.Deferred(r, detail);
            })
            .ToList();
}
