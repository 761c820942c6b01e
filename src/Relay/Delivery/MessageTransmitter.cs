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
    public static async Task<IReadOnlyList<RecipientResult>> SendAsync(RecordingSmtpClient client, DeliveryRequest request, int maxRecipients, CancellationToken ct)
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
        client.SpooledSize = stream.Length; // SIZE= without serialising the message once more to measure it

        // RFC 6531 3.2: mail that needs SMTPUTF8 is not downgraded to a next hop without it; it bounces.
        var international = request.Utf8 && (sendable.Append(request.Sender).Any(a => a.Any(c => c > 127)) || message.Headers.Any(h => h.RawValue.Any(b => b > 127)));
        if (international && !client.Capabilities.HasFlag(SmtpCapabilities.UTF8))
        {
            results.AddRange(sendable.Select(r => RecipientResult.Failed(r, "553 5.6.7 the next hop does not offer SMTPUTF8, which this message needs (a UTF-8 address or header)")));
            return results;
        }

        var format = international ? FormatOptions.Default.Clone() : null;
        if (format is not null)
        {
            format.International = true;
        }

        // At most maxRecipients per transaction (SES takes 50): the rest go in further transactions.
        var batches = sendable.Zip(recipients).Chunk(maxRecipients).ToList();
        for (var i = 0; i < batches.Count; i++)
        {
            var batch = batches[i];
            try
            {
                results.AddRange(await SendBatchAsync(client, format, message, sender, batch, ct));
            }
            catch (Exception e) when (i > 0 && !(e is OperationCanceledException && ct.IsCancellationRequested))
            {
                // Earlier transactions went through: this one takes its own outcome, the rest wait for the next attempt.
                var detail = SmtpFailure.Describe(e);
                results.AddRange(batch.Select(r => SmtpFailure.IsPermanent(e) ? RecipientResult.Failed(r.First, detail) : RecipientResult.Deferred(r.First, detail)));
                results.AddRange(batches.Skip(i + 1).SelectMany(b => b).Select(r => RecipientResult.Deferred(r.First, "not sent: an earlier transaction on the connection failed: " + detail)));
                break;
            }
        }

        return results;
    }

    /// <summary>One transaction. Throws on connection-level or whole-transaction failures.</summary>
    private static async Task<List<RecipientResult>> SendBatchAsync(RecordingSmtpClient client, FormatOptions? format, MimeMessage message, MailboxAddress sender, (string First, MailboxAddress Second)[] batch, CancellationToken ct)
    {
        client.ResetRecorded();
        var addresses = batch.Select(r => r.First).ToList();
        string reply;
        try
        {
            reply = format is null
                ? await client.SendAsync(message, sender, batch.Select(r => r.Second), ct)
                : await client.SendAsync(format, message, sender, batch.Select(r => r.Second), ct);
        }
        catch (SmtpCommandException) when (client.Refused.Count == batch.Length)
        {
            return Refusals(client, addresses);
        }

        var results = Refusals(client, addresses);
        results.AddRange(addresses.Where(r => !client.Refused.ContainsKey(r)).Select(r => RecipientResult.Delivered(r, reply)));
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

    private static List<RecipientResult> Refusals(RecordingSmtpClient client, IEnumerable<string> recipients) =>
        recipients
            .Where(client.Refused.ContainsKey)
            .Select(r =>
            {
                var response = client.Refused[r];
                var detail = $"{(int)response.StatusCode} {response.Response}";
                return (int)response.StatusCode >= 500 ? RecipientResult.Failed(r, detail) : RecipientResult.Deferred(r, detail);
            })
            .ToList();
}
