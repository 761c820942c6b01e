using MailRelay.Contracts.Patterns;

namespace MailRelay.Contracts.Clients;

/// <summary>A domain granted by a MailDomain: the domain (A-label) and whether its subdomains are included.</summary>
public sealed record DomainGrant(string Domain, bool Subdomains)
{
    /// <summary>True when addresses at <paramref name="domain"/> (A-label, lower case) are inside this grant.</summary>
    public bool Covers(string domain) =>
        domain == Domain
        || (Subdomains && domain.Length > Domain.Length + 1 && domain.EndsWith(Domain, StringComparison.Ordinal) && domain[domain.Length - Domain.Length - 1] == '.');

    /// <inheritdoc />
    public override string ToString() => Subdomains ? $"{Domain} (and subdomains)" : Domain;
}

/// <summary>
/// One sending identity: the SMTP user of a namespace's <c>mail-relay-smtp</c> Secret, the salted
/// hash of its password, and the sender domains it may use (all of them when <see cref="Trusted"/>).
/// </summary>
public sealed record ClientEntry(string User, string Namespace, bool Trusted, string PasswordHash, IReadOnlyList<DomainGrant> Domains)
{
    /// <summary>Prints no hash.</summary>
    public override string ToString() => $"{User} (namespace {Namespace}{(Trusted ? ", trusted" : string.Empty)})";
}

/// <summary>What the relay decided about a sender at MAIL FROM.</summary>
/// <param name="Allowed">True to accept it.</param>
/// <param name="Reason">Why it is refused (for the 553 reply and the log); null when allowed.</param>
public sealed record SenderDecision(bool Allowed, string? Reason)
{
    /// <summary>Accepted.</summary>
    public static readonly SenderDecision Ok = new(true, null);

    /// <summary>Refused, with the reason.</summary>
    public static SenderDecision Refuse(string reason) => new(false, reason);
}

/// <summary>
/// The relay's client table (<c>clients.yaml</c>, written by the operator): the sending identities
/// and every domain a MailDomain covers. Pure: <see cref="CheckSender"/> decides who may use which
/// envelope sender (Postfix's <c>smtpd_sender_login_maps</c> with <c>reject_sender_login_mismatch</c>).
/// </summary>
public sealed class ClientTable
{
    private readonly Dictionary<string, ClientEntry> _byUser;

    public ClientTable(IReadOnlyList<ClientEntry> clients, IReadOnlyList<DomainGrant> covered)
    {
        Clients = clients;
        Covered = covered;
        _byUser = clients.ToDictionary(c => c.User, StringComparer.Ordinal);
    }

    /// <summary>The empty table: no identity, no domain covered.</summary>
    public static ClientTable Empty { get; } = new([], []);

    /// <summary>The identities, sorted by user.</summary>
    public IReadOnlyList<ClientEntry> Clients { get; }

    /// <summary>Every domain some MailDomain in effect covers.</summary>
    public IReadOnlyList<DomainGrant> Covered { get; }

    /// <summary>The identity of <paramref name="user"/>, or null.</summary>
    public ClientEntry? Find(string user) => _byUser.GetValueOrDefault(user);

    /// <summary>
    /// May a client use <paramref name="sender"/>? <paramref name="identity"/> is the client table's
    /// entry of the authenticated user, null for a client that did not authenticate (relaying from
    /// <c>--allowed-networks</c>). An identity may use senders inside its granted domains (a trusted
    /// one: any; the null sender <c>&lt;&gt;</c> only a trusted one, as only trusted namespaces may
    /// route it). A client without AUTH may use only senders no MailDomain covers (the null sender too).
    /// </summary>
    public SenderDecision CheckSender(ClientEntry? identity, EnvelopeAddress sender)
    {
        if (identity is null)
        {
            return !sender.IsNull && Covered.FirstOrDefault(g => g.Covers(sender.Domain)) is { } owner
                ? SenderDecision.Refuse($"sender domain {sender.Domain} belongs to a MailDomain ({owner}): authenticate with your namespace's SMTP credentials to use it")
                : SenderDecision.Ok;
        }

        if (identity.Trusted)
        {
            return SenderDecision.Ok;
        }

        if (sender.IsNull)
        {
            return SenderDecision.Refuse($"the null sender <> is not permitted for {identity.User}: only trusted namespaces may send it");
        }

        return identity.Domains.Any(g => g.Covers(sender.Domain))
            ? SenderDecision.Ok
            : SenderDecision.Refuse($"sender <{sender.Normalized}> is not owned by user {identity.User}: namespace {identity.Namespace} is granted " +
                (identity.Domains.Count == 0 ? "no domain" : string.Join(", ", identity.Domains)));
    }
}
