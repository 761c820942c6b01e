using MailRelay.Relay.Cli;
using MailRelay.Relay.Queue;
using MailRelay.Relay.Receive.Protocol;
using Microsoft.Extensions.Logging;

namespace MailRelay.Relay.Receive;

/// <summary>What every <see cref="SmtpConnection"/> of a listener shares.</summary>
public sealed record ReceiveServices(
    RelayOptions Options,
    DialogueSettings Settings,
    IReceivePolicy Policy,
    SessionTable Sessions,
    Spool Spool,
    IDeliveryQueue Queue,
    ClientAuthenticator? Authenticator,
    ServerCertificate? Certificate,
    TimeProvider Time,
    ILogger Logger);
