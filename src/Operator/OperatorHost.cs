using k8s;
using k8s.LeaderElection;
using k8s.LeaderElection.ResourceLock;
using MailRelay.Operator.Cli;
using MailRelay.Operator.Controller;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Prometheus;

namespace MailRelay.Operator;

/// <summary>
/// Hosts the controller: with leader election (a Lease), only the leader runs it; a standby takes
/// over once the leader's lease expires (15 s). Serves /metrics, /healthz and /readyz.
/// </summary>
public static class OperatorHost
{
    /// <summary>Runs until shutdown.</summary>
    public static async Task<int> RunAsync(OperatorOptions options, CancellationToken ct)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.Logging.AddSimpleConsole(o =>
        {
            o.SingleLine = true;
            o.UseUtcTimestamp = true;
            o.TimestampFormat = "yyyy-MM-ddTHH:mm:ss.fffZ ";
        });
        builder.Logging.AddFilter("Microsoft.AspNetCore", LogLevel.Warning);
        builder.Logging.AddFilter("Microsoft.Hosting", LogLevel.Warning);
        builder.WebHost.UseUrls(options.Metrics is { } m ? "http://" + m : "http://127.0.0.1:0");
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(15));

        var config = LoadConfig(options.Kubeconfig);
        var client = new Kubernetes(config, new ApiCallCounter());
        builder.Services.AddSingleton<IKubernetes>(client);
        builder.Services.AddSingleton(options);
        builder.Services.AddSingleton<LeadershipState>();
        builder.Services.AddSingleton(sp => new MailRelayController(client, options, sp.GetRequiredService<ILoggerFactory>()));
        builder.Services.AddHostedService<LeaderService>();

        var app = builder.Build();
        app.MapMetrics("/metrics");
        app.MapGet("/healthz", () => Results.Text("ok\n"));
        app.MapGet("/readyz", (MailRelayController controller, LeadershipState leadership) =>
            !options.LeaderElect || controller.Ready || !leadership.IsLeader
                ? Results.Text("ready\n")
                : Results.Text("not ready: caches not synced\n", statusCode: StatusCodes.Status503ServiceUnavailable));
        app.Lifetime.ApplicationStarted.Register(() =>
            app.Logger.LogInformation("HTTP listening on {Urls} (/metrics, /healthz, /readyz)", string.Join(", ", app.Urls)));
        await app.RunAsync(ct);
        return 0;
    }

    /// <summary>In-cluster config, else the kubeconfig file (--kubeconfig, KUBECONFIG, ~/.kube/config).</summary>
    public static KubernetesClientConfiguration LoadConfig(string? kubeconfig) =>
        kubeconfig is null && KubernetesClientConfiguration.IsInCluster()
            ? KubernetesClientConfiguration.InClusterConfig()
            : KubernetesClientConfiguration.BuildConfigFromConfigFile(kubeconfig ?? Environment.GetEnvironmentVariable("KUBECONFIG"));

    /// <summary>Runs the controller while leading (or always, without leader election).</summary>
    private sealed class LeaderService(IKubernetes client, OperatorOptions options, MailRelayController controller, LeadershipState leadership, ILogger<LeaderService> logger) : BackgroundService
    {
        protected override async Task ExecuteAsync(CancellationToken stoppingToken)
        {
            if (!options.LeaderElect)
            {
                leadership.Set(true);
                await controller.RunAsync(stoppingToken);
                return;
            }

            var lease = new LeaseLock(client, options.Namespace, options.LeaseName, options.Identity);
            using var elector = new LeaderElector(new LeaderElectionConfig(lease)
            {
                LeaseDuration = TimeSpan.FromSeconds(15),
                RenewDeadline = TimeSpan.FromSeconds(10),
                RetryPeriod = TimeSpan.FromSeconds(2),
            });
            CancellationTokenSource? leading = null;
            Task running = Task.CompletedTask;
            elector.OnStartedLeading += () =>
            {
                logger.LogInformation("Became the leader ({Identity}); reconciling", options.Identity);
                leadership.Set(true);
                leading = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
                running = Task.Run(() => controller.RunAsync(leading.Token), CancellationToken.None);
            };
            elector.OnStoppedLeading += () =>
            {
                logger.LogWarning("Lost leadership ({Identity}); stopped writing", options.Identity);
                leadership.Set(false);
                leading?.Cancel();
            };
            elector.OnNewLeader += leader => logger.LogInformation("The leader is {Leader}", leader);

            try
            {
                await elector.RunAndTryToHoldLeadershipForeverAsync(stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
            }

            leading?.Cancel();
            await running;
        }
    }
}
