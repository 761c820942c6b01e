using MailKit.Net.Smtp;
using MimeKit;

namespace MailRelay.Relay.Delivery;

/// <summary>
/// Sends a spooled message over a connected client: the bytes exactly as spooled (MimeKit keeps
/// raw headers and bodies of a parsed message; nothing is modified), to each recipient.
/// </summary>
public static class MessageTransmitter
{
    /// <summary>
    /// Sends and returns a result per recipient. A recipient MimeKit cannot put on the wire fails
    /// alone; when the next hop refuses every recipient, each gets its own reply (a 4xx stays
    /// temporary: MailKit's summary "554 No recipients were accepted" is not the server's word).
    /// Throws on connection-level or whole-message failures.
    /// </summary>
    public static async Task<IReadOnlyList<RecipientResult>> SendAsync(RecordingSmtpClient client, DeliveryRequest request, CancellationToken ct)
    {
        var results = new List<RecipientResult>();
        var sendable = new List<string>();
        var recipients = new List<MailboxAddress>();
        foreach (var r in request.Recipients)
        {
            if (TryMailbox(r, out var mailbox, out var error))
            {
                sendable.Add(r);
                recipients.Add(mailbox);
            }
            else
            {
                results.Add(RecipientResult.Failed(r, "the address cannot be sent: " + error));
            }
        }

        if (recipients.Count == 0)
        {
            return results;
        }

        if (!TryMailbox(request.Sender, out var sender, out var senderError) && request.Sender.Length > 0)
        {
            results.AddRange(sendable.Select(r => RecipientResult.Failed(r, "the sender cannot be sent: " + senderError)));
            return results;
        }

        sender ??= new MailboxAddress(string.Empty, string.Empty);
        await using var stream = new FileStream(request.MessagePath, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.Asynchronous);
        using var message = await MimeMessage.LoadAsync(stream, persistent: true, ct);
        var sent = request with { Recipients = sendable };

        client.ResetRecorded();
        string reply;
        try
        {
            reply = await client.SendAsync(message, sender, recipients, ct);
        }
        catch (SmtpCommandException) when (client.Refused.Count == recipients.Count)
        {
            results.AddRange(Refusals(client, sent));
            return results;
        }

        results.AddRange(Refusals(client, sent));
        foreach (var r in sendable)
        {
            if (!client.Refused.ContainsKey(r))
            {
                results.Add(RecipientResult.Delivered(r, reply));
            }
        }

        return results;
    }

    private static bool TryMailbox(string address, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out MailboxAddress? mailbox, out string error)
    {
        mailbox = null;
        error = string.Empty;
        if (address.Length == 0)
        {
            return false;
        }

        try
        {
            mailbox = new MailboxAddress(string.Empty, address);
            return true;
        }
        catch (ParseException e)
        {
            error = e.Message;
            return false;
        }
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
