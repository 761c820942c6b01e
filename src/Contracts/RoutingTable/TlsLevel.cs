namespace MailRelay.Contracts.RoutingTable;

/// <summary>TLS levels, mirroring Postfix <c>smtp_tls_security_level</c>.</summary>
public enum TlsLevel
{
    /// <summary>TLS required; chain and host name verified (Postfix <c>secure</c>).</summary>
    Verify,

    /// <summary>TLS required; certificate not verified (Postfix <c>encrypt</c>).</summary>
    Encrypt,

    /// <summary>STARTTLS when offered, else plain (Postfix <c>may</c>).</summary>
    Opportunistic,

    /// <summary>Never TLS.</summary>
    None,
}
