using MailRelay.Contracts.Patterns;
using MailRelay.Contracts.RoutingTable;
using MailRelay.Relay.Cli;
using MailRelay.Relay.Config;
using MailRelay.Relay.Observability;
using MailRelay.Relay.Queue;
using SmtpServer;
using SmtpServer.Mail;
using SmtpServer.Storage;

namespace MailRelay.Relay.Receive;

/// <summary>
/// Decides at RCPT: relay access (554 5.7.1 for unauthorised clients), the recipient limit (452
/// 4.5.3), then the route of the (sender, recipient) pair; a reject route, or no route with
/// default reject, gives 550 5.7.1.
/// </summary>
public sealed class RelayMailboxFilter(RelayConfigStore config, ClientAccess access, RelayOptions options, Spool spool) : IMailboxFilter
{
    private const string RecipientCountKey = "mailrelay.recipients";

    /// <inheritdoc />
    public Task<bool> CanAcceptFromAsync(ISessionContext context, IMailbox from, int size, CancellationToken cancellationToken)
    {
        try
        {
            _ = SessionInfo.Address(from);
        }
        catch (PatternException e)
        {
            throw SmtpReplies.BadAddress(e.Message);
        }

        // Postfix's rule: a declared SIZE needs 1.5 times its size free in the queue.
        if (size > 0 && spool.FreeBytes() < size * 3L / 2)
        {
            RelayMetrics.Refused.WithLabels("insufficient_storage").Inc();
            throw SmtpReplies.NoRoomFor();
        }

        context.Properties[RecipientCountKey] = 0;
        return Task.FromResult(true);
    }

    /// <inheritdoc />
    public Task<bool> CanDeliverToAsync(ISessionContext context, IMailbox to, IMailbox from, CancellationToken cancellationToken)
    {
        if (!access.MayRelay(SessionInfo.ClientAddress(context), context.Authentication.IsAuthenticated))
        {
            RelayMetrics.Refused.WithLabels("relay_denied").Inc();
            throw SmtpReplies.RelayDenied();
        }

        var current = config.Current;
        if (current is null)
        {
            RelayMetrics.Refused.WithLabels("not_ready").Inc();
            throw SmtpReplies.NotReady();
        }

        EnvelopeAddress sender, recipient;
        try
        {
            sender = SessionInfo.Address(from);
            recipient = SessionInfo.Address(to);
        }
        catch (PatternException e)
        {
            RelayMetrics.Refused.WithLabels("bad_address").Inc();
            throw SmtpReplies.BadAddress(e.Message);
        }

        if (recipient.IsNull)
        {
            throw SmtpReplies.BadAddress("a recipient is required");
        }

        var accepted = context.Properties.TryGetValue(RecipientCountKey, out var n) && n is int count ? count : 0;
        if (accepted >= options.MaxRecipients)
        {
            RelayMetrics.Refused.WithLabels("too_many_recipients").Inc();
            throw SmtpReplies.TooManyRecipients();
        }

        var decision = current.Resolver.Resolve(sender, recipient);
        if (decision.Action == RouteAction.Reject)
        {
            RelayMetrics.Refused.WithLabels("rejected_by_route").Inc();
            throw SmtpReplies.Rejected(decision.Winner?.Route.RejectMessage ?? MailRelay.Relay.Routing.RouteResolver.NoRouteRejectMessage);
        }

        context.Properties[RecipientCountKey] = accepted + 1;
        return Task.FromResult(true);
    }
}
