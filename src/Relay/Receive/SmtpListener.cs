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

/// <summary>Runs the SmtpServer library on <c>--listen</c> with the relay's filter, store and authenticator.</summary>
public sealed class SmtpListener(
    RelayOptions options,
    IMailboxFilter filter,
    IMessageStore store,
    RelayHealth health,
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
            .Endpoint(endpoint =>
            {
                endpoint.Endpoint(options.Listen).AllowUnsecureAuthentication(false).SessionTimeout(TimeSpan.FromMinutes(5));
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
            services.Add(new UsersFileAuthenticator(users));
        }

        var server = new SmtpServer.SmtpServer(serverOptions, services);
        server.SessionCreated += (_, e) =>
        {
            e.Context.CommandExecuting += (_, c) =>
            {
                if (c.Command is EhloCommand ehlo)
                {
                    c.Context.Properties[SessionInfo.HeloKey] = ehlo.DomainOrAddress;
                }
                else if (c.Command is HeloCommand helo)
                {
                    c.Context.Properties[SessionInfo.HeloKey] = helo.DomainOrAddress;
                }
            };
        };
        server.SessionFaulted += (_, e) => logger.LogWarning("SMTP session from {Client} faulted: {Error}", SessionInfo.ClientAddress(e.Context), e.Exception.Message);

        try
        {
            await server.StartAsync(stoppingToken);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        finally
        {
            health.MarkListening(false);
        }
    }
}
