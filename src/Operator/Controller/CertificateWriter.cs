using System.Net;
using System.Text;
using k8s;
using k8s.Autorest;
using k8s.Models;
using MailRelay.Operator.Cli;
using MailRelay.Operator.DesiredState;
using Microsoft.Extensions.Logging;

namespace MailRelay.Operator.Controller;

/// <summary>
/// Keeps the operator's CA (Secret <c>--ca-secret-name</c>: <c>ca.crt</c>, <c>ca.key</c>) and the relay's
/// server certificate issued from it (Secret <c>--relay-tls-secret-name</c>, type kubernetes.io/tls:
/// <c>tls.crt</c>, <c>tls.key</c>, <c>ca.crt</c>) in its namespace; decisions in <see cref="RelayCertificates"/>.
/// Writes only when something is missing, unusable or due for renewal; never logs a key.
/// With <c>--relay-tls-source-secret</c> it issues nothing: it copies the user's certificate Secret into the relay's
/// (<see cref="RelayTlsSource"/> decides what), keeping the last good one while the source is missing or incomplete.
/// </summary>
public sealed class CertificateWriter(IKubernetes client, OperatorOptions options, WriteIfChanged writer, ILogger logger)
{
    private V1OwnerReference? _owner;

    /// <summary>
    /// Makes sure the relay's certificate is current; returns the plan (its <see cref="RelayTlsPlan.CaCertificate"/>: the apps' <c>ca.crt</c>).
    /// The Secrets written are owned by <paramref name="owner"/> (<see cref="RelayOwner"/>).
    /// </summary>
    public async Task<RelayTlsPlan> ApplyAsync(V1OwnerReference? owner, CancellationToken ct)
    {
        _owner = owner;
        if (string.IsNullOrEmpty(options.RelayTlsSourceSecret))
        {
            return RelayTlsPlan.Issue with { CaCertificate = await IssueAsync(ct) };
        }

        var source = await ReadAsync(options.RelayTlsSourceSecret, ct);
        var tlsSecret = await ReadAsync(options.RelayTlsSecretName, ct);
        var plan = RelayTlsSource.Decide(options.RelayTlsSourceSecret, options.Namespace, source?.Data, tlsSecret?.Data, DateTimeOffset.UtcNow);
        if (plan.Write is { } data)
        {
            await WriteAsync(tlsSecret, options.RelayTlsSecretName, "kubernetes.io/tls", new(data), ct);
            writer.Wrote("Secret", $"copied the certificate of Secret {options.Namespace}/{options.RelayTlsSourceSecret} into Secret {options.Namespace}/{options.RelayTlsSecretName}");
        }
        else
        {
            await OwnAsync(tlsSecret, ct);
        }

        return plan;
    }

    private async Task<string> IssueAsync(CancellationToken ct)
    {
        var now = DateTimeOffset.UtcNow;
        var ns = options.Namespace;
        var caSecret = await ReadAsync(options.CaSecretName, ct);
        var ca = Pair(caSecret, "ca.crt", "ca.key");
        if (!RelayCertificates.IsUsableCa(ca, now))
        {
            ca = RelayCertificates.IssueCa($"mailrelay-operator CA ({ns})", now);
            await WriteAsync(caSecret, options.CaSecretName, "Opaque", new() { ["ca.crt"] = ca.Certificate, ["ca.key"] = ca.Key }, ct);
            writer.Wrote("Secret", $"{(caSecret is null ? "created" : "replaced the unusable")} CA in Secret {ns}/{options.CaSecretName}");
        }
        else
        {
            await OwnAsync(caSecret, ct);
        }

        var names = RelayCertificates.DnsNames(options.RelaySmtpHost, options.WorkloadName, ns);
        var tlsSecret = await ReadAsync(options.RelayTlsSecretName, ct);
        var server = Pair(tlsSecret, "tls.crt", "tls.key");
        var currentCa = tlsSecret?.Data?.TryGetValue("ca.crt", out var c) == true ? Encoding.UTF8.GetString(c) : null;
        var why = RelayCertificates.WhyIssue(server, ca!.Certificate, names, now) ?? (currentCa != ca.Certificate ? "the CA changed" : null);
        if (why is not null)
        {
            var issued = RelayCertificates.IssueServer(ca, names, now);
            await WriteAsync(tlsSecret, options.RelayTlsSecretName, "kubernetes.io/tls", new() { ["tls.crt"] = issued.Certificate, ["tls.key"] = issued.Key, ["ca.crt"] = ca.Certificate }, ct);
            writer.Wrote("Secret", $"issued the relay's certificate for {string.Join(", ", names)} into Secret {ns}/{options.RelayTlsSecretName} ({why})");
        }
        else
        {
            await OwnAsync(tlsSecret, ct);
        }

        return ca.Certificate;
    }

    private static PemPair? Pair(V1Secret? secret, string certKey, string keyKey) =>
        secret?.Data is { } data && data.TryGetValue(certKey, out var cert) && data.TryGetValue(keyKey, out var key)
            ? new PemPair(Encoding.UTF8.GetString(cert), Encoding.UTF8.GetString(key))
            : null;

    private async Task<V1Secret?> ReadAsync(string name, CancellationToken ct)
    {
        try
        {
            return await client.CoreV1.ReadNamespacedSecretAsync(name, options.Namespace, cancellationToken: ct);
        }
        catch (HttpOperationException e) when (e.Response.StatusCode == HttpStatusCode.NotFound)
        {
            return null;
        }
    }

    private async Task WriteAsync(V1Secret? existing, string name, string type, Dictionary<string, string> values, CancellationToken ct)
    {
        var data = values.ToDictionary(kv => kv.Key, kv => Encoding.UTF8.GetBytes(kv.Value));
        if (existing is null)
        {
            await client.CoreV1.CreateNamespacedSecretAsync(
                new V1Secret { Metadata = new V1ObjectMeta { Name = name, NamespaceProperty = options.Namespace, OwnerReferences = _owner is null ? null : [_owner] }, Type = type, Data = data },
                options.Namespace,
                cancellationToken: ct);
            return;
        }

        if (existing.Type is { Length: > 0 } t && t != type)
        {
            logger.LogWarning("Secret {Namespace}/{Name} has type {Type}, not {Wanted}: its data is replaced, its type kept", options.Namespace, name, t, type);
        }

        existing.Data = data;
        existing.StringData = null;
        RelayOwner.Own(existing.Metadata, _owner);
        await client.CoreV1.ReplaceNamespacedSecretAsync(existing, name, options.Namespace, cancellationToken: ct);
    }

    /// <summary>A Secret made before the relay workload existed (or by an earlier version) gets its owner; nothing else changes.</summary>
    private async Task OwnAsync(V1Secret? secret, CancellationToken ct)
    {
        if (secret is null || RelayOwner.IsOwned(secret.Metadata, _owner))
        {
            return;
        }

        RelayOwner.Own(secret.Metadata, _owner);
        await client.CoreV1.ReplaceNamespacedSecretAsync(secret, secret.Metadata.Name, options.Namespace, cancellationToken: ct);
        writer.Wrote("Secret", $"Secret {options.Namespace}/{secret.Metadata.Name} is now owned by {_owner!.Kind}/{_owner.Name}: deleted with it");
    }
}
