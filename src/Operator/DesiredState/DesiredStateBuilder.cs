using System.Security.Cryptography;
using System.Text;
using MailRelay.Contracts.RoutingTable;
using MailRelay.Operator.Entities;

namespace MailRelay.Operator.DesiredState;

/// <summary>
/// The pure core of the operator: from a snapshot of MailRoutes, RelayCredentials and their
/// Secrets, MailDomains and the trusted namespaces to the relay's routing table, credentials,
/// config hash and a verdict per resource (MailDomains and sender grants: <see cref="SenderGrants"/>).
/// Deterministic: the same resources give byte-identical output. One bad resource never blocks
/// the others: it gets a False condition and is left out (InvalidSpec, NotPermitted, Conflicted),
/// except a route whose credential is missing or incomplete: it keeps its claim and is programmed
/// with the hold action (fail closed).
/// </summary>
public static class DesiredStateBuilder
{
    public static DesiredRelayConfig Build(ClusterSnapshot snapshot)
    {
        var grants = SenderGrants.Evaluate(snapshot);
        var credentialVerdicts = new List<Verdict>();
        var resolved = new Dictionary<string, (string User, string Password)>(StringComparer.Ordinal);
        var external = new Dictionary<string, string>(StringComparer.Ordinal); // credential name -> its Secret, not among the files
        foreach (var credential in snapshot.Credentials.OrderBy(ResourceKey.Of, StringComparer.Ordinal))
        {
            var (verdict, value) = Resolve(credential, snapshot);
            credentialVerdicts.Add(verdict);
            if (value is { } v)
            {
                resolved[RouteSpecMapper.CredentialName(verdict.Namespace, verdict.Name)] = v;
            }
            else if (verdict.Reason == ConditionReasons.SecretExternal)
            {
                external[RouteSpecMapper.CredentialName(verdict.Namespace, verdict.Name)] = verdict.Namespace + "/" + credential.Spec.SecretRef.Name;
            }
        }

        var credentialsByKey = credentialVerdicts.ToDictionary(v => v.Key, StringComparer.Ordinal);
        var routeVerdicts = new List<Verdict>();
        var accepted = new List<Route>();
        var claims = new Dictionary<(int Priority, string Sender, string Recipient), string>();

        // Oldest first, so the older of two conflicting routes wins (docs/api.md).
        foreach (var route in snapshot.Routes
                     .OrderBy(r => r.Metadata.CreationTimestamp ?? DateTime.MaxValue)
                     .ThenBy(ResourceKey.Of, StringComparer.Ordinal))
        {
            var ns = ResourceKey.Namespace(route);
            var generation = route.Metadata.Generation ?? 0;
            Verdict Reject(string reason, string message) => new(ns, route.Metadata.Name, generation, false, reason, message);

            var (mapped, errors) = RouteSpecMapper.Map(route);
            if (mapped is null)
            {
                routeVerdicts.Add(Reject(ConditionReasons.InvalidSpec, string.Join("; ", errors)));
                continue;
            }

            // Before credentials and conflicts: a claim not granted takes no part in either.
            if (grants.Refusal(ns, mapped) is { } refusal)
            {
                routeVerdicts.Add(Reject(ConditionReasons.NotPermitted, refusal));
                continue;
            }

            var keys = ClaimKeys(mapped).ToList();
            var winner = keys.Select(k => claims.GetValueOrDefault(k)).FirstOrDefault(w => w is not null);
            if (winner is not null)
            {
                var clash = keys.First(k => claims.ContainsKey(k));
                routeVerdicts.Add(Reject(ConditionReasons.Conflicted,
                    $"MailRoute {winner} is older and routes the same sender '{clash.Sender}'" +
                    (clash.Recipient.Length == 0 ? " (any recipient)" : $" for recipient '{clash.Recipient}'") +
                    $" at priority {clash.Priority}; this route is not programmed"));
                continue;
            }

            // From here on the route keeps its claim: programmed as asked, or held (fail closed).
            foreach (var k in keys)
            {
                claims[k] = mapped.Name;
            }

            if (CredentialProblem(route, ns, credentialsByKey) is { } problem)
            {
                var held = mapped.AsHeld(problem.Reason + ": " + problem.Message);
                accepted.Add(held);
                routeVerdicts.Add(new Verdict(ns, route.Metadata.Name, generation, false, problem.Reason,
                    problem.Message + "; the route is held: its mail is accepted and queued, never sent another way, until the credential is back",
                    held.ActionText, HoldReason: held.HoldReason));
                continue;
            }

            accepted.Add(mapped);
            var warning = InsecureCredential(mapped);
            routeVerdicts.Add(new Verdict(ns, route.Metadata.Name, generation, true, ConditionReasons.Accepted,
                "the route is valid and will be programmed" + (warning is { } w ? "; warning: " + w.Message : string.Empty), mapped.ActionText, warning));
        }

        var routesYaml = RoutingTableYaml.Render(new RoutingTable(accepted));
        var secretData = new SortedDictionary<string, byte[]>(StringComparer.Ordinal);
        var externalUsed = new SortedDictionary<string, string>(StringComparer.Ordinal);
        foreach (var name in new RoutingTable(accepted).CredentialNames)
        {
            if (!resolved.TryGetValue(name, out var value))
            {
                externalUsed[name] = external[name]; // accepted with a credential: resolved, or external
                continue;
            }

            secretData[name + ".username"] = Encoding.UTF8.GetBytes(value.User);
            secretData[name + ".password"] = Encoding.UTF8.GetBytes(value.Password);
        }

        return new DesiredRelayConfig(
            routesYaml,
            secretData,
            Hash(accepted, secretData),
            routeVerdicts.OrderBy(v => v.Key, StringComparer.Ordinal).ToList(),
            credentialVerdicts)
        {
            Domains = grants.Verdicts,
            ExternalCredentials = externalUsed,
        };
    }

    /// <summary>
    /// The config hash: SHA-256 over the routing table as the resources' files define it — every route's
    /// <c>created</c> left out, since a creationTimestamp is set by the API server, never by a file
    /// (docs/api.md: render and the operator give the same hash for the same resources) — and every
    /// credential key and value.
    /// </summary>
    public static string Hash(IEnumerable<Route> routes, IReadOnlyDictionary<string, byte[]> secretData) =>
        Hash(RoutingTableYaml.Render(new RoutingTable(routes.Select(r => r with { Created = DateTimeOffset.UnixEpoch }).ToList())), secretData);

    /// <summary>SHA-256 over a routing table's text and every credential key and value.</summary>
    public static string Hash(string routesYaml, IReadOnlyDictionary<string, byte[]> secretData)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        hash.AppendData(Encoding.UTF8.GetBytes(routesYaml));
        foreach (var (key, value) in secretData.OrderBy(kv => kv.Key, StringComparer.Ordinal))
        {
            hash.AppendData(Encoding.UTF8.GetBytes("\0" + key + "\0"));
            hash.AppendData(value);
        }

        return "sha256:" + Convert.ToHexStringLower(hash.GetHashAndReset());
    }

    private static (Verdict Verdict, (string, string)? Value) Resolve(RelayCredential credential, ClusterSnapshot snapshot)
    {
        var ns = ResourceKey.Namespace(credential);
        var name = credential.Metadata.Name;
        var generation = credential.Metadata.Generation ?? 0;
        var secretName = credential.Spec.SecretRef.Name;
        var userKey = credential.Spec.SecretRef.UsernameKey ?? SecretKeysReference.DefaultUsernameKey;
        var passwordKey = credential.Spec.SecretRef.PasswordKey ?? SecretKeysReference.DefaultPasswordKey;
        if (string.IsNullOrEmpty(secretName) || !snapshot.Secrets.TryGetValue((ns, secretName), out var secret))
        {
            // The one place an absent Secret is told apart: among files (render, explain -f) it is managed
            // elsewhere and the credential is programmed as if present; in a cluster it does not exist.
            if (snapshot.SecretsElsewhere && !string.IsNullOrEmpty(secretName))
            {
                return (new Verdict(ns, name, generation, true, ConditionReasons.SecretExternal,
                    $"Secret {ns}/{secretName} is not among the files: taken as managed elsewhere (e.g. a SealedSecret or an ExternalSecret) and programmed as if present; its values are not rendered"), null);
            }

            return (new Verdict(ns, name, generation, false, ConditionReasons.SecretNotFound, $"Secret {ns}/{secretName} does not exist"), null);
        }

        var missing = new[] { userKey, passwordKey }.Where(k => secret.Data is null || !secret.Data.ContainsKey(k)).ToList();
        if (missing.Count > 0)
        {
            return (new Verdict(ns, name, generation, false, ConditionReasons.KeyMissing,
                $"Secret {ns}/{secretName} has no key {string.Join(" or ", missing.Select(k => "'" + k + "'"))}"), null);
        }

        var user = Encoding.UTF8.GetString(secret.Data![userKey]).TrimEnd('\r', '\n');
        var password = Encoding.UTF8.GetString(secret.Data[passwordKey]).TrimEnd('\r', '\n');
        return (new Verdict(ns, name, generation, true, ConditionReasons.Resolved, $"username and password read from Secret {ns}/{secretName}"), (user, password));
    }

    /// <summary>
    /// Why a relay route's credential cannot be had, or null: no RelayCredential of that name in the
    /// route's namespace, or its Secret missing (CredentialNotFound), or a key missing (CredentialNotReady).
    /// </summary>
    private static (string Reason, string Message)? CredentialProblem(MailRoute route, string ns, IReadOnlyDictionary<string, Verdict> credentialsByKey)
    {
        if (route.Spec.Relay?.CredentialRef is not { } credentialRef)
        {
            return null;
        }

        if (!credentialsByKey.TryGetValue(ns + "/" + credentialRef.Name, out var credentialVerdict))
        {
            return (ConditionReasons.CredentialNotFound,
                $"RelayCredential {ns}/{credentialRef.Name} does not exist (a MailRoute can only use a RelayCredential in its own namespace)");
        }

        if (credentialVerdict.Ok)
        {
            return null;
        }

        // No Secret means no credential to be had (CredentialNotFound, as for a missing
        // RelayCredential); a Secret without the keys is a credential not ready yet.
        var reason = credentialVerdict.Reason == ConditionReasons.SecretNotFound
            ? ConditionReasons.CredentialNotFound
            : ConditionReasons.CredentialNotReady;
        return (reason, $"RelayCredential {ns}/{credentialRef.Name} is not ready: {credentialVerdict.Reason}: {credentialVerdict.Message}");
    }

    /// <summary><c>tls: Encrypt</c> with a credential: the password goes to whoever answers with any certificate.</summary>
    private static (string Reason, string Message)? InsecureCredential(Route route) =>
        route.Relay is { Tls: TlsLevel.Encrypt, Credential: not null }
            ? (ConditionReasons.InsecureCredential, "tls Encrypt sends the credential to any TLS peer (the certificate is not verified); use tls Verify, with the relay's --trust-ca for a private CA")
            : null;

    private static IEnumerable<(int Priority, string Sender, string Recipient)> ClaimKeys(Route route)
    {
        foreach (var sender in route.Senders)
        {
            if (route.Recipients.Count == 0)
            {
                yield return (route.Priority, sender.ToString(), string.Empty);
            }

            foreach (var recipient in route.Recipients)
            {
                yield return (route.Priority, sender.ToString(), recipient.ToString());
            }
        }
    }
}
