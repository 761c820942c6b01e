using System.Net;
using DnsClient;
using DnsClient.Protocol;

namespace MailRelay.Relay.Delivery;

/// <summary>The next hops for a domain, or why there are none.</summary>
/// <param name="Hosts">MX hosts by preference (or the domain itself when it has no MX), each with its addresses.</param>
/// <param name="PermanentError">Set when mail to the domain can never be delivered (null MX, no such domain).</param>
/// <param name="TemporaryError">Set when DNS failed and the look-up should be retried later.</param>
public sealed record MxResult(IReadOnlyList<(string Host, IReadOnlyList<IPAddress> Addresses)> Hosts, string? PermanentError, string? TemporaryError);

/// <summary>
/// MX look-ups (RFC 5321 §5.1): MX records sorted by preference; A/AAAA of the domain when it has
/// no MX; a null MX (RFC 7505) is a permanent failure. Host addresses are resolved through the
/// same resolver (<c>--dns-server</c>). DNS time-outs are temporary (DnsClient throws them even
/// with ThrowDnsErrors off).
/// </summary>
public sealed class MxResolver(ILookupClient dns)
{
    /// <summary>Builds a resolver on <paramref name="server"/>, or the system's resolvers when null.</summary>
    public static MxResolver Create(IPEndPoint? server)
    {
        var options = server is null ? new LookupClientOptions() : new LookupClientOptions(new NameServer(server));
        options.UseCache = true;
        options.Timeout = TimeSpan.FromSeconds(5);
        options.Retries = 2;
        options.UseTcpFallback = true;
        options.ThrowDnsErrors = false;
        return new MxResolver(new LookupClient(options));
    }

    /// <summary>Resolves the next hops of <paramref name="domain"/> (an A-label domain).</summary>
    public async Task<MxResult> ResolveAsync(string domain, CancellationToken ct)
    {
        try
        {
            var mx = await dns.QueryAsync(domain, QueryType.MX, cancellationToken: ct);
            if (mx.HasError)
            {
                return mx.Header.ResponseCode == DnsHeaderResponseCode.NotExistentDomain
                    ? new MxResult([], $"domain {domain} does not exist (NXDOMAIN)", null)
                    : new MxResult([], null, $"MX look-up for {domain} failed: {mx.ErrorMessage}");
            }

            var records = mx.Answers.MxRecords().ToList();
            if (records.Count == 1 && records[0].Exchange.Value is "." or "")
            {
                return new MxResult([], $"domain {domain} accepts no mail (null MX, RFC 7505)", null);
            }

            var names = records.Count == 0
                ? [domain]
                : records.OrderBy(r => r.Preference).ThenBy(r => r.Exchange.Value, StringComparer.Ordinal)
                    .Select(r => r.Exchange.Value.TrimEnd('.')).Distinct(StringComparer.OrdinalIgnoreCase).ToList();

            var hosts = new List<(string, IReadOnlyList<IPAddress>)>();
            foreach (var name in names)
            {
                var addresses = await AddressesAsync(name, ct);
                if (addresses.Count > 0)
                {
                    hosts.Add((name, addresses));
                }
            }

            return hosts.Count > 0
                ? new MxResult(hosts, null, null)
                : new MxResult([], null, $"no address found for the mail hosts of {domain} ({string.Join(", ", names)})");
        }
        catch (DnsResponseException e)
        {
            return new MxResult([], null, $"DNS error for {domain}: {e.Message}");
        }
    }

    private async Task<IReadOnlyList<IPAddress>> AddressesAsync(string host, CancellationToken ct)
    {
        if (IPAddress.TryParse(host, out var literal))
        {
            return [literal];
        }

        var result = new List<IPAddress>();
        foreach (var type in new[] { QueryType.A, QueryType.AAAA })
        {
            var response = await dns.QueryAsync(host, type, cancellationToken: ct);
            if (!response.HasError)
            {
                result.AddRange(response.Answers.OfType<AddressRecord>().Select(a => a.Address));
            }
        }

        return result;
    }
}
