namespace MailRelay.Contracts.RoutingTable;

/// <summary>
/// An upstream relay. <paramref name="Credential"/> names a credential in the credentials Secret,
/// or is null. <paramref name="MaxRecipients"/> is how many recipients one upstream transaction
/// carries (null: <see cref="DefaultMaxRecipients"/>); more go in further transactions.
/// </summary>
public sealed record RelayTarget(string Host, int Port, TlsLevel Tls, string? Credential, int? MaxRecipients = null)
{
    /// <summary>The submission port, used when a route gives none.</summary>
    public const int DefaultPort = 587;

    /// <summary>Recipients per upstream transaction unless a route says otherwise (Postfix's default_destination_recipient_limit; SES takes 50).</summary>
    public const int DefaultMaxRecipients = 50;

    /// <summary>The largest <see cref="MaxRecipients"/> a route may set.</summary>
    public const int MaxRecipientsLimit = 1000;

    /// <summary>Recipients per upstream transaction in force.</summary>
    public int RecipientsPerTransaction => MaxRecipients ?? DefaultMaxRecipients;

    /// <summary>Port 465 means TLS from connect (implicit TLS, "SMTPS").</summary>
    public bool ImplicitTls => Port == 465;

    /// <summary>Whether the TLS level refuses to talk without encryption.</summary>
    public bool RequiresTls => Tls is TlsLevel.Verify or TlsLevel.Encrypt;

    /// <inheritdoc />
    public override string ToString() =>
        $"{Host}:{Port} tls={Tls}{(Credential is null ? string.Empty : " credential=" + Credential)}{(MaxRecipients is { } m ? " maxRecipients=" + m : string.Empty)}";
}
