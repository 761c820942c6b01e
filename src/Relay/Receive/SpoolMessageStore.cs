using System.Buffers;
using MailRelay.Relay.Cli;
using MailRelay.Relay.Config;
using MailRelay.Relay.Observability;
using MailRelay.Relay.Queue;
using Microsoft.Extensions.Logging;
using SmtpServer;
using SmtpServer.Protocol;
using SmtpServer.Storage;

namespace MailRelay.Relay.Receive;

/// <summary>
/// Puts an accepted message in the durable queue and hands it to the scheduler. The 250 reply is
/// returned only after the spool has fsynced the message and its envelope.
/// </summary>
public sealed class SpoolMessageStore(
    Spool spool,
    IDeliveryQueue queue,
    RelayOptions options,
    TimeProvider time,
    ILogger<SpoolMessageStore> logger) : IMessageStore
{
    /// <inheritdoc />
    public async Task<SmtpResponse> SaveAsync(ISessionContext context, IMessageTransaction transaction, ReadOnlySequence<byte> buffer, CancellationToken cancellationToken)
    {
        if (MessageLines.Problem(buffer) is { } problem)
        {
            RelayMetrics.Refused.WithLabels("bad_message_lines").Inc();
            logger.LogWarning("Refused a message from <{Sender}> (client {Client}): it has {Problem}", SessionInfo.Text(transaction.From), SessionInfo.ClientAddress(context), problem);
            return SmtpReplies.BadLines(problem);
        }

        var id = Spool.NewId();
        var now = time.GetUtcNow();
        var recipients = transaction.To.Select(SessionInfo.Text).ToList();
        var client = SessionInfo.ClientAddress(context);
        var entry = new QueueEntry
        {
            Id = id,
            ReceivedAt = now,
            Sender = SessionInfo.Text(transaction.From),
            Recipients = recipients.Select(r => new QueueRecipient { Address = r }).ToList(),
            NextAttemptAt = now,
            Client = client?.ToString(),
            ReturnFull = transaction.Parameters.Any(p => p.Key.Equals("RET", StringComparison.OrdinalIgnoreCase) && p.Value.Equals("FULL", StringComparison.OrdinalIgnoreCase)),
        };
        var header = ReceivedHeader.Format(
            SessionInfo.Helo(context), client, options.HostName, context.Pipe.IsSecure, context.Authentication.IsAuthenticated, id, recipients, now);

        try
        {
            // A message received whole is always committed: the session's token is cancelled at the
            // end of a shutdown drain, and the client must get the 250 for what the spool holds, not a 5xx.
            await spool.AcceptAsync(entry, header, buffer, CancellationToken.None);
        }
        catch (IOException e) when (Spool.IsDiskFull(e))
        {
            logger.LogError("Could not queue a message from {Sender}: the spool's disk is full", entry.Sender);
            return SmtpReplies.InsufficientStorage();
        }
        catch (IOException e)
        {
            logger.LogError("Could not queue a message from {Sender}: {Error}", entry.Sender, e.Message);
            return SmtpReplies.QueueWriteFailed();
        }

        // The route is decided once, by the attempt's plan: not here (a table may change before it).
        RelayMetrics.Accepted.Inc();
        logger.LogInformation("Queued {Id} from <{Sender}> for {Recipients} from {Client}", entry.Id, entry.Sender, string.Join(",", recipients), client);
        queue.Enqueue(entry);
        return SmtpReplies.Queued(id);
    }
}
