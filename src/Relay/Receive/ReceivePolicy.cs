using MailRelay.Contracts.Clients;
using MailRelay.Contracts.Patterns;
using MailRelay.Contracts.RoutingTable;
using MailRelay.Relay.Config;
using MailRelay.Relay.Observability;
using MailRelay.Relay.Queue;
using MailRelay.Relay.Receive.Protocol;
using Microsoft.Extensions.Logging;

namespace MailRelay.Relay.Receive;

/// <summary>
/// The relay's decisions at MAIL and RCPT. MAIL: the address must be routable, a declared SIZE must
/// fit in the spool (452 4.3.1). RCPT: relay access (554 5.7.1 for unauthorised clients), a loaded
/// table (451), the recipient limit (452 4.5.3), then the route of the (sender, recipient) pair: a
/// reject route, or no route with default reject, gives 550 5.7.1. A hold route accepts: its mail is
/// queued and waits, deferred, never sent another way (fail closed).
/// </summary>
/// <remarks>
/// Sending identities (with <c>--clients</c>), at MAIL: a user of the client table may use only
/// senders inside its namespace's granted domains (a trusted namespace's: any); a client without
/// AUTH only senders no MailDomain covers; a <c>--users</c> user any. Else 553 5.7.1, logged with
/// the client, user and sender.
/// </remarks>
public sealed class ReceivePolicy(RelayConfigStore config, ClientAccess access, int maxRecipients, Spool spool, ClientTableStore clients, ClientAuthenticator authenticator, ILogger<ReceivePolicy> logger) : IReceivePolicy
{
    /// <inheritdoc />
    public SmtpReply? CheckSender(SessionFacts session, string sender, long declaredSize)
    {
        EnvelopeAddress address;
        try
        {
            address = EnvelopeAddress.Parse(sender);
        }
        catch (PatternException e)
        {
            RelayMetrics.Refused.WithLabels("bad_address").Inc();
            return SmtpReplies.BadAddress(e.Message);
        }

        if (CheckOwnership(session, address) is { } refusal)
        {
            return refusal;
        }

        // Postfix's rule: a declared SIZE needs 1.5 times its size free in the queue.
        if (declaredSize > 0 && spool.FreeBytes() < declaredSize * 3 / 2)
        {
            RelayMetrics.Refused.WithLabels("insufficient_storage").Inc();
            return SmtpReplies.InsufficientStorage();
        }

        return null;
    }

    private SmtpReply? CheckOwnership(SessionFacts session, EnvelopeAddress sender)
    {
        if (!clients.Enabled || (session.User is { } u && clients.Current?.Find(u) is null && authenticator.IsUnrestricted(u)))
        {
            return null; // no client table in use, or a --users user: any sender
        }

        if (clients.Current is not { } table)
        {
            RelayMetrics.Refused.WithLabels("not_ready").Inc();
            return SmtpReplies.ClientsNotReady();
        }

        ClientEntry? identity = null;
        if (session.User is { } user && (identity = table.Find(user)) is null)
        {
            // authenticated, then the identity left the table (its MailDomain deleted)
            return Refuse(session, sender, $"user {user} is no longer a sending identity (no MailDomain grants its namespace)");
        }

        var decision = table.CheckSender(identity, sender);
        return decision.Allowed ? null : Refuse(session, sender, decision.Reason!);
    }

    private SmtpReply Refuse(SessionFacts session, EnvelopeAddress sender, string reason)
    {
        RelayMetrics.Refused.WithLabels("sender_not_owned").Inc();
        logger.LogWarning("Refused sender <{Sender}> from client {Client} ({User}): {Reason}",
            sender.Normalized, session.Client, session.User is { } u ? "user " + u : "not authenticated", reason);
        return SmtpReplies.SenderNotOwned(reason);
    }

    /// <inheritdoc />
    public SmtpReply? CheckRecipient(SessionFacts session, string sender, string recipient, int accepted)
    {
        if (!access.MayRelay(session.Client, session.User is not null))
        {
            RelayMetrics.Refused.WithLabels("relay_denied").Inc();
            return SmtpReplies.RelayDenied();
        }

        var current = config.Current;
        if (current is null)
        {
            RelayMetrics.Refused.WithLabels("not_ready").Inc();
            return SmtpReplies.NotReady();
        }

        EnvelopeAddress from, to;
        try
        {
            from = EnvelopeAddress.Parse(sender);
            to = EnvelopeAddress.Parse(recipient);
        }
        catch (PatternException e)
        {
            RelayMetrics.Refused.WithLabels("bad_address").Inc();
            return SmtpReplies.BadAddress(e.Message);
        }

        if (accepted >= maxRecipients)
        {
            RelayMetrics.Refused.WithLabels("too_many_recipients").Inc();
            return SmtpReplies.TooManyRecipients();
        }

        var decision = current.Resolver.Resolve(from, to);
        if (decision.Action == RouteAction.Reject)
        {
            RelayMetrics.Refused.WithLabels("rejected_by_route").Inc();
            return SmtpReplies.Rejected(decision.Winner?.Route.RejectMessage ?? Contracts.Routing.RouteResolver.NoRouteRejectMessage);
        }

        return null; // relay, direct and hold routes accept; a held recipient waits in the queue
    }
}
