using System.Globalization;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using k8s;
using k8s.Autorest;
using k8s.Models;
using MailRelay.Contracts.Clients;
using MailRelay.Operator.Cli;
using MailRelay.Operator.DesiredState;
using Microsoft.Extensions.Logging;

namespace MailRelay.Operator.Controller;

/// <summary>
/// Sending identities, the I/O: keeps the <c>--smtp-secret-name</c> Secret (username, password,
/// host, port, ca.crt: the operator's CA, which issued the relay's certificate) in every namespace of the <see cref="IdentityPlan"/>, deletes the ones it labelled in
/// namespaces no longer granted, and writes the relay's client table (<c>clients.yaml</c>, salted
/// hashes only) into <c>--clients-secret-name</c>. A password is generated once and kept from the
/// existing Secret until that Secret (or its password key) is deleted. Writes only what changed;
/// never logs a password or hash.
/// </summary>
public sealed class IdentityWriter(IKubernetes client, OperatorOptions options, WriteIfChanged writer, ILogger logger)
{
    /// <summary>The label that marks the Secrets this writer owns (selected by the identity informer).</summary>
    public const string IdentityLabel = "mailrelay.io/sending-identity";

    /// <summary>The key of the client table in the clients Secret.</summary>
    public const string ClientsKey = "clients.yaml";

    // user -> (SHA-256 of the password, the hash recorded for it): a password verified once is not
    // run through PBKDF2 again on every reconcile.
    private readonly Dictionary<string, (byte[] Digest, string Hash)> _hashes = new(StringComparer.Ordinal);
    private string _caCertificate = string.Empty;

    /// <summary>The label selector of the identity informer.</summary>
    public static string Selector => IdentityLabel + "=true";

    /// <summary>Makes the identity Secrets and the client table match <paramref name="plan"/>; <paramref name="existing"/> are the labelled Secrets cached.</summary>
    public async Task ApplyAsync(IdentityPlan plan, IReadOnlyList<V1Secret> existing, string caCertificate, V1OwnerReference? owner, CancellationToken ct)
    {
        _caCertificate = caCertificate;
        var ours = existing.Where(s => s.Metadata.Name == options.SmtpSecretName)
            .ToDictionary(s => s.Metadata.NamespaceProperty, StringComparer.Ordinal);
        var passwords = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var identity in plan.Identities)
        {
            if (await KeepSecretAsync(identity, ours.GetValueOrDefault(identity.Namespace), ct) is { } password)
            {
                passwords[identity.Namespace] = password;
            }
        }

        var wanted = plan.Identities.Select(i => i.Namespace).ToHashSet(StringComparer.Ordinal);
        foreach (var (ns, secret) in ours.Where(kv => !wanted.Contains(kv.Key)))
        {
            try
            {
                await client.CoreV1.DeleteNamespacedSecretAsync(secret.Metadata.Name, ns, cancellationToken: ct);
                writer.Wrote("Secret", $"deleted Secret {ns}/{secret.Metadata.Name}: no MailDomain grants namespace {ns} any more");
            }
            catch (HttpOperationException e) when (e.Response.StatusCode == HttpStatusCode.NotFound)
            {
            }
        }

        await WriteClientTableAsync(plan, passwords, owner, ct);
    }

    private async Task<string?> KeepSecretAsync(SendingIdentity identity, V1Secret? current, CancellationToken ct)
    {
        var (name, ns) = (options.SmtpSecretName, identity.Namespace);
        if (current is null)
        {
            var password = GeneratedPassword.New();
            try
            {
                await client.CoreV1.CreateNamespacedSecretAsync(Build(identity, password), ns, cancellationToken: ct);
                writer.Wrote("Secret", $"created Secret {ns}/{name}: SMTP credentials of user {identity.User}");
                return password;
            }
            catch (HttpOperationException e) when (e.Response.StatusCode == HttpStatusCode.Conflict)
            {
                // created since the cache was read (our own earlier write): use what is there
                current = await client.CoreV1.ReadNamespacedSecretAsync(name, ns, cancellationToken: ct);
            }
            catch (HttpOperationException e)
            {
                // e.g. a namespace being deleted: the identity is left out of the table, the others go on
                logger.LogWarning("Could not create Secret {Namespace}/{Name}: HTTP {Status}; user {User} is left out of the client table", ns, name, (int)e.Response.StatusCode, identity.User);
                return null;
            }
        }

        var kept = current.Data?.TryGetValue("password", out var bytes) == true && bytes.Length > 0 ? Encoding.UTF8.GetString(bytes) : null;
        var wanted = Build(identity, kept ?? GeneratedPassword.New());
        if (current.Metadata.Labels?.TryGetValue(IdentityLabel, out var label) == true && label == "true" && SameData(current.Data, wanted.Data))
        {
            return Encoding.UTF8.GetString(wanted.Data["password"]);
        }

        current.Data = wanted.Data;
        current.StringData = null;
        current.Metadata.Labels = new Dictionary<string, string>(current.Metadata.Labels ?? new Dictionary<string, string>());
        foreach (var (k, v) in wanted.Metadata.Labels)
        {
            current.Metadata.Labels[k] = v;
        }

        try
        {
            await client.CoreV1.ReplaceNamespacedSecretAsync(current, name, ns, cancellationToken: ct);
            writer.Wrote("Secret", $"updated Secret {ns}/{name}{(kept is null ? " (new password: the old one had none)" : string.Empty)}");
            return Encoding.UTF8.GetString(wanted.Data["password"]);
        }
        catch (HttpOperationException e) when (e.Response.StatusCode is HttpStatusCode.Conflict or HttpStatusCode.NotFound)
        {
            throw new InvalidOperationException($"Secret {ns}/{name} changed while it was being updated (HTTP {(int)e.Response.StatusCode}); retrying");
        }
    }

    private V1Secret Build(SendingIdentity identity, string password) => new()
    {
        Metadata = new V1ObjectMeta
        {
            Name = options.SmtpSecretName,
            NamespaceProperty = identity.Namespace,
            Labels = new Dictionary<string, string>
            {
                [IdentityLabel] = "true",
                ["app.kubernetes.io/managed-by"] = "mailrelay-operator",
            },
        },
        Type = "Opaque",
        Data = new Dictionary<string, byte[]>
        {
            ["username"] = Encoding.UTF8.GetBytes(identity.User),
            ["password"] = Encoding.UTF8.GetBytes(password),
            ["host"] = Encoding.UTF8.GetBytes(options.RelaySmtpHost),
            ["port"] = Encoding.UTF8.GetBytes(options.RelaySmtpPort.ToString(CultureInfo.InvariantCulture)),
            ["ca.crt"] = Encoding.UTF8.GetBytes(_caCertificate),
        },
    };

    /// <summary>The client table, in a Secret owned by the relay workload (<see cref="RelayOwner"/>).</summary>
    private async Task WriteClientTableAsync(IdentityPlan plan, Dictionary<string, string> passwords, V1OwnerReference? owner, CancellationToken ct)
    {
        var (name, ns) = (options.ClientsSecretName, options.Namespace);
        V1Secret? current = null;
        try
        {
            current = await client.CoreV1.ReadNamespacedSecretAsync(name, ns, cancellationToken: ct);
        }
        catch (HttpOperationException e) when (e.Response.StatusCode == HttpStatusCode.NotFound)
        {
        }

        var recorded = ExistingTable(current);
        var table = SendingIdentities.Table(plan, passwords, (user, password) => HashOf(user, password, recorded?.Find(user)?.PasswordHash));
        var yaml = Encoding.UTF8.GetBytes(ClientTableYaml.Render(table));
        var data = new Dictionary<string, byte[]> { [ClientsKey] = yaml };
        await writer.ApplyAsync(
            new OwnedObject<V1Secret>(
                "Secret",
                _ => Task.FromResult(current),
                existing => OwnedObjects.HasData(existing, data) && RelayOwner.IsOwned(existing.Metadata, owner),
                c => client.CoreV1.CreateNamespacedSecretAsync(new V1Secret { Metadata = new V1ObjectMeta { Name = name, NamespaceProperty = ns, OwnerReferences = owner is null ? null : [owner] }, Type = "Opaque", Data = data }, ns, cancellationToken: c),
                (existing, c) =>
                {
                    existing.Data = data;
                    existing.StringData = null;
                    RelayOwner.Own(existing.Metadata, owner);
                    return client.CoreV1.ReplaceNamespacedSecretAsync(existing, name, ns, cancellationToken: c);
                },
                $"created Secret {ns}/{name}: client table with {table.Clients.Count} identit(ies)",
                $"updated Secret {ns}/{name}: client table with {table.Clients.Count} identit(ies): {string.Join(", ", table.Clients)}"),
            ct);
    }

    private static ClientTable? ExistingTable(V1Secret? secret)
    {
        if (secret?.Data?.TryGetValue(ClientsKey, out var bytes) != true)
        {
            return null;
        }

        try
        {
            return ClientTableYaml.Parse(Encoding.UTF8.GetString(bytes!));
        }
        catch (FormatException)
        {
            return null; // rewritten whole
        }
    }

    /// <summary>The hash to record: the one already recorded when the password still matches it, else a new salted hash.</summary>
    private string HashOf(string user, string password, string? recorded)
    {
        var digest = SHA256.HashData(Encoding.UTF8.GetBytes(password));
        if (recorded is not null && _hashes.TryGetValue(user, out var known) && known.Hash == recorded && CryptographicOperations.FixedTimeEquals(known.Digest, digest))
        {
            return recorded;
        }

        var hash = recorded is not null && PasswordHash.Verify(recorded, password) ? recorded : PasswordHash.Create(password);
        _hashes[user] = (digest, hash);
        return hash;
    }

    private static bool SameData(IDictionary<string, byte[]>? a, IDictionary<string, byte[]> b) =>
        a is not null && a.Count == b.Count && b.All(kv => a.TryGetValue(kv.Key, out var v) && v.AsSpan().SequenceEqual(kv.Value));
}
