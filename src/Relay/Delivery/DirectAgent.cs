using MailKit.Security;
using MailRelay.Contracts.Patterns;
using MailRelay.Contracts.RoutingTable;
using MailRelay.Relay.Cli;
using MailRelay.Relay.Config;
using Microsoft.Extensions.Logging;

namespace MailRelay.Relay.Delivery;

/// <summary>
/// Delivers to the recipient domains' MX hosts on <c>--direct-port</c>, one connection per domain,
/// trying hosts in preference order while they cannot be reached; STARTTLS when offered
/// (certificates not verified, like Postfix's <c>may</c>).
/// </summary>
public sealed class DirectAgent(RelayOptions options, MxResolver mx, ILogger<DirectAgent> logger) : IDeliveryAgent
{
    /// <inheritdoc />
    public async Task<IReadOnlyList<RecipientResult>> DeliverAsync(DeliveryRequest request, CredentialSet credentials, CancellationToken ct)
    {
        var results = new List<RecipientResult>();
        foreach (var domainGroup in request.Recipients.GroupBy(r => EnvelopeAddress.Parse(r).Domain, StringComparer.Ordinal))
        {
            var recipients = domainGroup.ToList();
            results.AddRange(await DeliverToDomainAsync(request with { Recipients = recipients }, domainGroup.Key, ct));
        }

        return results;
    }

    private async Task<IReadOnlyList<RecipientResult>> DeliverToDomainAsync(DeliveryRequest request, string domain, CancellationToken ct)
    {
        var hops = await mx.ResolveAsync(domain, ct);
        if (hops.PermanentError is { } permanent)
        {
            return request.Recipients.Select(r => RecipientResult.Failed(r, permanent)).ToList();
        }

        if (hops.TemporaryError is { } temporary)
        {
            return request.Recipients.Select(r => RecipientResult.Deferred(r, temporary)).ToList();
        }

        var lastError = "no mail host could be reached";
        foreach (var (host, addresses) in hops.Hosts)
        {
            foreach (var address in addresses)
            {
                var client = new RecordingSmtpClient
                {
                    Timeout = (int)options.SmtpTimeout.TotalMilliseconds,
                    CheckCertificateRevocation = false,
                    ServerCertificateValidationCallback = (_, _, _, _) => true,
                    LocalDomain = options.HostName,
                };
                try
                {
                    var socket = await SmtpSocket.ConnectAsync(address.ToString(), options.DirectPort, options.SmtpTimeout, ct);
                    await client.ConnectAsync(socket, host, options.DirectPort, SecureSocketOptions.StartTlsWhenAvailable, ct);
                    var results = await MessageTransmitter.SendAsync(client, request, RelayTarget.DefaultMaxRecipients, ct);
                    SmtpConnectionPool.Close(client);
                    return results;
                }
                catch (Exception e) when (SmtpFailure.IsConnectionFailure(e) && !ct.IsCancellationRequested)
                {
                    SmtpConnectionPool.Close(client);
                    lastError = $"{host}[{address}]:{options.DirectPort}: {SmtpFailure.Describe(e)}";
                    logger.LogInformation("Direct delivery of {Id} to {Host}[{Address}] failed, trying the next host: {Error}", request.MessageId, host, address, lastError);
                }
                catch (Exception e) when (e is MailKit.Net.Smtp.SmtpCommandException or AuthenticationException)
                {
                    SmtpConnectionPool.Close(client);
                    var detail = $"{host}[{address}]:{options.DirectPort}: {SmtpFailure.Describe(e)}";
                    return SmtpFailure.IsPermanent(e)
                        ? request.Recipients.Select(r => RecipientResult.Failed(r, detail)).ToList()
                        : request.Recipients.Select(r => RecipientResult.Deferred(r, detail)).ToList();
                }
            }
        }

        return request.Recipients.Select(r => RecipientResult.Deferred(r, lastError) with { Unreachable = true }).ToList();
    }
}
