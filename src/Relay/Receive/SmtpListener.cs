using System.Security.Cryptography.X509Certificates;
using MailRelay.Relay.Cli;
using MailRelay.Relay.Observability;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using SmtpServer;
using SmtpServer.Authentication;
using SmtpServer.Net;
using SmtpServer.Protocol;
using SmtpServer.Storage;

namespace MailRelay.Relay.Receive;

/// <summary>
/// Runs the SmtpServer library on <c>--listen</c> with the relay's filter, store and authenticator.
/// On SIGTERM it drains: not ready, new and idle clients told 421, transactions in progress given
/// <c>--shutdown-grace</c> to finish (their message is queued and acknowledged), then the rest closed.
/// </summary>
public sealed class SmtpListener(
    RelayOptions options,
    IMailboxFilter filter,
    IMessageStore store,
    RelayHealth health,
    TimeProvider time,
    AuthFailures authFailures,
    ILogger<SmtpListener> logger) : BackgroundService
{
    /// <inheritdoc />
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        X509Certificate2? certificate = null;
        if (options.TlsCertFile is { } certFile && options.TlsKeyFile is { } keyFile)
        {
            certificate = X509Certificate2.CreateFromPemFile(certFile, keyFile);
        }

        var serverOptions = new SmtpServerOptionsBuilder()
            .ServerName(options.HostName)
            .MaxMessageSize(options.MaxMessageSize, MaxMessageSizeHandling.Strict)
            .CommandWaitTimeout(Timeout.InfiniteTimeSpan) // the SessionTable's idle sweep answers 421, not the library's 221
            .Endpoint(endpoint =>
            {
                // No cap on a whole session (a busy pooled client may stay for hours): the idle timeout applies between commands.
                endpoint.Endpoint(options.Listen).AllowUnsecureAuthentication(false).SessionTimeout(Timeout.InfiniteTimeSpan);
                if (certificate is not null)
                {
                    endpoint.Certificate(certificate);
                }
            })
            .Build();

        var listenerFactory = new EndpointListenerFactory();
        listenerFactory.EndpointStarted += (_, e) =>
        {
            health.MarkListening(true);
            logger.LogInformation("SMTP listening on {EndPoint} (STARTTLS {Tls}, AUTH {Auth})", e.LocalEndPoint, certificate is null ? "off" : "on", options.UsersFile is null ? "off" : "on over TLS");
        };
        listenerFactory.EndpointStopped += (_, _) => health.MarkListening(false);

        var services = new SmtpServer.ComponentModel.ServiceProvider();
        services.Add(listenerFactory);
        services.Add(filter);
        services.Add(store);
        if (options.UsersFile is { } users)
        {
            services.Add(new UsersFileAuthenticator(users, authFailures, logger, time));
        }

        var server = new SmtpServer.SmtpServer(serverOptions, services);
        var table = new SessionTable(time, options.MaxConnections, options.MaxConnectionsPerClient);
        server.SessionCreated += (_, e) =>
        {
            if (table.Opened(e.Context, SessionInfo.ClientAddress(e.Context)) is { } refused && !table.Draining)
            {
                RelayMetrics.Refused.WithLabels(refused.Replace(' ', '_').Replace('-', '_')).Inc();
                logger.LogWarning("SMTP connection from {Client} refused with 421: {Reason}", SessionInfo.ClientAddress(e.Context), refused);
            }

            e.Context.CommandExecuting += (_, c) =>
            {
                table.Executing(c.Context, c.Command);
                if (c.Command is EhloCommand ehlo)
                {
                    c.Context.Properties[SessionInfo.HeloKey] = ehlo.DomainOrAddress;
                }
                else if (c.Command is HeloCommand helo)
                {
                    c.Context.Properties[SessionInfo.HeloKey] = helo.DomainOrAddress;
                }
            };
            e.Context.CommandExecuted += (_, c) => table.Executed(c.Context, c.Command);
            e.Context.ResponseException += (_, r) => table.Refused(r.Context);
        };
        server.SessionCompleted += (_, e) => table.Closed(e.Context);
        server.SessionCancelled += (_, e) => table.Closed(e.Context);
        server.SessionFaulted += (_, e) =>
        {
            table.Closed(e.Context);
            if (!table.Draining)
            {
                logger.LogWarning("SMTP session from {Client} faulted: {Error}", SessionInfo.ClientAddress(e.Context), e.Exception.Message);
            }
        };

        // Sessions run on their own token: SIGTERM starts the drain, not their cancellation.
        using var sessions = new CancellationTokenSource();
        var running = server.StartAsync(sessions.Token);
        var sweep = TimeSpan.FromTicks(Math.Clamp(options.IdleTimeout.Ticks / 4, TimeSpan.TicksPerMillisecond * 100, TimeSpan.TicksPerSecond * 5));
        try
        {
            while (true)
            {
                await Task.Delay(sweep, time, stoppingToken);
                if (table.CloseIdle(options.IdleTimeout) is > 0 and var closed)
                {
                    logger.LogInformation("SMTP: closed {Count} session(s) idle for more than {Timeout}", closed, options.IdleTimeout);
                }
            }
        }
        catch (OperationCanceledException)
        {
        }

        health.MarkListening(false);
        table.Begin();
        logger.LogInformation("SMTP stopped accepting mail: {Count} transaction(s) in progress may take up to {Grace} to finish", table.InTransaction, options.ShutdownGrace);
        if (!await table.TransactionsFinishedAsync(options.ShutdownGrace))
        {
            logger.LogWarning("SMTP shutdown grace over: closing {Count} transaction(s) unfinished (the clients keep their mail and retry)", table.InTransaction);
        }

        table.SayGoodbyeToAll();
        await sessions.CancelAsync();
        try
        {
            await running;
        }
        catch (OperationCanceledException)
        {
        }
    }
}
