namespace MailRelay.Contracts.RoutingTable;

/// <summary>An upstream relay. <paramref name="Credential"/> names a credential in the credentials Secret, or is null.</summary>
public sealed record RelayTarget(string Host, int Port, TlsLevel Tls, string? Credential)
{
    /// <summary>The submission port, used when a route gives none.</summary>
    public const int DefaultPort = 587;

    /// <summary>Port 465 means TLS from connect (implicit TLS, "SMTPS").</summary>
    public bool ImplicitTls => Port == 465;

    /// <summary>Whether the TLS level refuses to talk without encryption.</summary>
    public bool RequiresTls => Tls is TlsLevel.Verify or TlsLevel.Encrypt;

    /// <inheritdoc />
    public override string ToString() => $"{Host}:{Port} tls={Tls}{(Credential is null ? string.Empty : " credential=" + Credential)}";
}
