using System.Net;
using System.Net.Sockets;
using MailRelay.Relay.Cli;
using MailRelay.Relay.Observability;
using MailRelay.Relay.Queue;
using MailRelay.Relay.Receive.Protocol;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace MailRelay.Relay.Receive;

/// <summary>
/// Accepts SMTP connections on <c>--listen</c>, one <see cref="SmtpConnection"/> each. On SIGTERM it
/// drains: not ready, new and idle clients told 421, transactions in progress given
/// <c>--shutdown-grace</c> to finish (their message is queued and acknowledged), then the rest told
/// 421 and closed.
/// </summary>
public sealed class SmtpListener(
    RelayOptions options,
    IReceivePolicy policy,
    Spool spool,
    IDeliveryQueue queue,
    RelayHealth health,
    TimeProvider time,
    ClientAuthenticator clientAuthenticator,
    ILogger<SmtpListener> logger) : BackgroundService
{
    /// <inheritdoc />
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        ServerCertificate? certificate = null;
        if (options.TlsCertFile is { } certFile && options.TlsKeyFile is { } keyFile)
        {
            certificate = new ServerCertificate(certFile, keyFile, logger);
        }

        var authenticator = clientAuthenticator.Enabled ? clientAuthenticator : null;
        var table = new SessionTable(time, options.MaxConnections, options.MaxConnectionsPerClient);
        var settings = new DialogueSettings(options.HostName, options.MaxMessageSize, certificate is not null, authenticator is not null);
        var services = new ReceiveServices(options, settings, policy, table, spool, queue, authenticator, certificate, time, logger);

        using var socket = new Socket(options.Listen.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        if (options.Listen.AddressFamily == AddressFamily.InterNetworkV6)
        {
            socket.DualMode = true;
        }

        socket.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
        socket.Bind(options.Listen);
        socket.Listen(512);
        health.MarkListening(true);
        logger.LogInformation("SMTP listening on {EndPoint} (STARTTLS {Tls}, AUTH {Auth})", socket.LocalEndPoint, certificate is null ? "off" : "on", authenticator is null ? "off" : "on over TLS");

        // Sessions run on their own token: SIGTERM starts the drain, not their cancellation.
        using var sessions = new CancellationTokenSource();
        var running = new HashSet<Task>();
        try
        {
            while (true)
            {
                var client = await socket.AcceptAsync(stoppingToken);
                client.NoDelay = true;
                var task = Task.Run(() => ServeAsync(client, services, sessions.Token), CancellationToken.None);
                lock (running)
                {
                    running.Add(task);
                }

                _ = task.ContinueWith(
                    t =>
                    {
                        lock (running)
                        {
                            running.Remove(t);
                        }
                    },
                    CancellationToken.None,
                    TaskContinuationOptions.ExecuteSynchronously,
                    TaskScheduler.Default);
            }
        }
        catch (OperationCanceledException)
        {
        }

        socket.Close();
        health.MarkListening(false);
        table.Begin();
        logger.LogInformation("SMTP stopped accepting mail: {Count} transaction(s) in progress may take up to {Grace} to finish", table.InTransaction, options.ShutdownGrace);
        if (!await table.TransactionsFinishedAsync(options.ShutdownGrace))
        {
            logger.LogWarning("SMTP shutdown grace over: closing {Count} transaction(s) unfinished (the clients keep their mail and retry)", table.InTransaction);
        }

        table.SayGoodbyeToAll();
        Task[] left;
        lock (running)
        {
            left = [.. running];
        }

        await Task.WhenAny(Task.WhenAll(left), Task.Delay(TimeSpan.FromSeconds(5), time, CancellationToken.None));
        await sessions.CancelAsync();
    }

    private async Task ServeAsync(Socket client, ReceiveServices services, CancellationToken stopping)
    {
        var connection = new SmtpConnection(client, services, stopping);
        await using (connection)
        {
            try
            {
                await connection.RunAsync();
            }
            catch (Exception e)
            {
                logger.LogWarning("SMTP session from {Client} faulted: {Error}", connection.Client, e.Message);
            }
        }
    }
}
