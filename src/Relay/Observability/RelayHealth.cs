using MailRelay.Relay.Config;

namespace MailRelay.Relay.Observability;

/// <summary>Readiness: a routing table is loaded and the SMTP listener is up.</summary>
public sealed class RelayHealth(RelayConfigStore config)
{
    private volatile bool _listening;

    /// <summary>Set by the listener once its socket is bound.</summary>
    public void MarkListening(bool listening) => _listening = listening;

    /// <summary>Why the relay is not ready, or null when it is.</summary>
    public string? NotReadyReason =>
        config.Current is null ? "no routing table loaded" + (config.LastError is { } e ? ": " + e : string.Empty)
        : !_listening ? "SMTP listener not up"
        : null;
}
