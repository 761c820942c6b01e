using MailRelay.Relay.Cli;
using MailRelay.Relay.Config;
using MailRelay.Relay.Delivery;
using MailRelay.Relay.Observability;
using MailRelay.Relay.Queue;
using MailRelay.Relay.Receive;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Prometheus;

namespace MailRelay.Relay;

/// <summary>Wires the relay: config watcher, SMTP listener, queue and delivery agents, and the metrics endpoint.</summary>
public static class RelayHost
{
    /// <summary>Builds the host for <paramref name="options"/>; with <c>--metrics</c> it also serves HTTP.</summary>
    public static IHost Build(RelayOptions options)
    {
        if (options.Metrics is null)
        {
            var builder = Host.CreateApplicationBuilder();
            Configure(builder.Services, builder.Logging, options);
            return builder.Build();
        }

        var web = WebApplication.CreateSlimBuilder();
        web.WebHost.UseUrls($"http://{Format(options.Metrics)}");
        Configure(web.Services, web.Logging, options);
        var app = web.Build();
        app.MapMetrics("/metrics");
        app.MapGet("/healthz", () => Results.Text("ok\n"));
        app.MapGet("/readyz", (RelayHealth health) => health.NotReadyReason is { } reason
            ? Results.Text("not ready: " + reason + "\n", statusCode: StatusCodes.Status503ServiceUnavailable)
            : Results.Text("ready\n"));
        app.Lifetime.ApplicationStarted.Register(() =>
            app.Logger.LogInformation("HTTP listening on {Urls} (/metrics, /healthz, /readyz)", string.Join(", ", app.Urls)));
        return app;
    }

    private static void Configure(IServiceCollection services, ILoggingBuilder logging, RelayOptions options)
    {
        logging.ClearProviders();
        logging.AddSimpleConsole(o =>
        {
            o.SingleLine = true;
            o.TimestampFormat = "yyyy-MM-ddTHH:mm:ss.fffZ ";
            o.UseUtcTimestamp = true;
        });
        logging.AddFilter("Microsoft.AspNetCore", LogLevel.Warning);
        logging.AddFilter("Microsoft.Hosting", LogLevel.Warning);

        // The listener drains for --shutdown-grace, then the queue stops: both fit in the host's stop budget.
        services.Configure<HostOptions>(o => o.ShutdownTimeout = options.ShutdownGrace + TimeSpan.FromSeconds(20));
        services.AddSingleton(options);
        services.AddSingleton(TimeProvider.System);
        services.AddSingleton<RelayConfigStore>();
        services.AddSingleton<ClientTableStore>();
        services.AddSingleton<ClientAuthenticator>();
        services.AddSingleton<RelayHealth>();
        services.AddSingleton<AuthFailures>();
        services.AddSingleton(new ClientAccess(options.AllowedNetworks));
        services.AddSingleton(new Spool(options.SpoolDir));
        services.AddSingleton(TrustAnchors.Load(options.TrustCaFile));
        services.AddSingleton(new RetryPolicy(options.RetryMin, options.RetryMax, options.MaxQueueLifetime) { DelayWarning = options.DelayWarning });
        services.AddSingleton(MxResolver.Create(options.DnsServer));
        services.AddSingleton(sp => new SmtpConnectionPool(sp.GetRequiredService<TimeProvider>()) { MaxIdlePerKey = options.DeliveryConcurrency });
        services.AddSingleton<RelayAgent>();
        services.AddSingleton<DirectAgent>();
        services.AddSingleton(sp => new DestinationGate(options.DestinationConcurrency, sp.GetRequiredService<TimeProvider>()));
        services.AddSingleton(sp => ActivatorUtilities.CreateInstance<DeliveryScheduler>(sp, options.DeliveryConcurrency, options.HostName));
        services.AddSingleton<IDeliveryQueue>(sp => sp.GetRequiredService<DeliveryScheduler>());
        services.AddSingleton<MailRelay.Relay.Receive.Protocol.IReceivePolicy>(sp => ActivatorUtilities.CreateInstance<ReceivePolicy>(sp, options.MaxRecipients));

        // Order matters: the config is loaded before the listener accepts and the queue delivers.
        services.AddHostedService(sp => new StartupConfigLoad(sp.GetRequiredService<RelayConfigStore>(), sp.GetRequiredService<ClientTableStore>()));
        services.AddHostedService<RelayConfigWatcher>();
        services.AddHostedService(sp => sp.GetRequiredService<DeliveryScheduler>());
        services.AddHostedService<SmtpListener>();
    }

    private static string Format(System.Net.IPEndPoint ep) =>
        ep.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 ? $"[{ep.Address}]:{ep.Port}" : ep.ToString();

    /// <summary>Loads the config once before the other services start, so the first SMTP session sees it.</summary>
    private sealed class StartupConfigLoad(RelayConfigStore store, ClientTableStore clients) : IHostedService
    {
        public Task StartAsync(CancellationToken cancellationToken)
        {
            store.Reload();
            clients.Reload();
            return Task.CompletedTask;
        }

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }
}
