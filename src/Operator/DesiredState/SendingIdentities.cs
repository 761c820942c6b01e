using MailRelay.Contracts.Clients;

namespace MailRelay.Operator.DesiredState;

/// <summary>One namespace's sending identity: its SMTP user and the sender domains it may use (any when trusted).</summary>
public sealed record SendingIdentity(string Namespace, string User, bool Trusted, IReadOnlyList<DomainGrant> Domains);

/// <summary>The identities to keep (one per granted namespace, by namespace) and every domain a MailDomain covers.</summary>
public sealed record IdentityPlan(IReadOnlyList<SendingIdentity> Identities, IReadOnlyList<DomainGrant> Covered);

/// <summary>
/// Sending identities, pure: every existing namespace that a MailDomain in effect grants (by
/// <c>namespaces</c> or <c>namespaceSelector</c>) gets one identity, user name = the namespace's
/// name, allowed the domains granted to it; a granted namespace that is also trusted may use any
/// sender. A namespace granted nothing (or no longer existing) gets none. The client table also
/// lists every covered domain: a client without AUTH may use only senders outside them.
/// </summary>
public static class SendingIdentities
{
    public static IdentityPlan Plan(ClusterSnapshot snapshot) => Plan(snapshot, SenderGrants.Evaluate(snapshot));

    public static IdentityPlan Plan(ClusterSnapshot snapshot, SenderGrants grants)
    {
        var identities = new List<SendingIdentity>();
        foreach (var ns in snapshot.NamespaceLabels.Keys.Order(StringComparer.Ordinal))
        {
            var domains = grants.GrantsOf(ns);
            if (domains.Count > 0)
            {
                identities.Add(new SendingIdentity(ns, ns, grants.IsTrusted(ns), domains));
            }
        }

        return new IdentityPlan(identities, grants.Covered);
    }

    /// <summary>
    /// The client table for the relay: each identity that has a password, with its password's hash.
    /// <paramref name="hashOf"/> returns the hash to record for (user, password): the caller keeps an
    /// existing hash that still verifies, so an unchanged password leaves the table byte-identical.
    /// </summary>
    public static ClientTable Table(IdentityPlan plan, IReadOnlyDictionary<string, string> passwords, Func<string, string, string> hashOf) =>
        new(
            plan.Identities
                .Where(i => passwords.ContainsKey(i.Namespace))
                .Select(i => new ClientEntry(i.User, i.Namespace, i.Trusted, hashOf(i.User, passwords[i.Namespace]), i.Domains))
                .OrderBy(c => c.User, StringComparer.Ordinal)
                .ToList(),
            plan.Covered);
}
