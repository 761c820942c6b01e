using MailRelay.Contracts.Patterns;
using MailRelay.Contracts.Routing;
using MailRelay.Contracts.RoutingTable;
using MailRelay.Relay.Cli;
using MailRelay.Relay.Config;
using MailRelay.Relay.Observability;
using MailRelay.Relay.Send;

namespace MailRelay.Relay;

/// <summary>Entry point: <c>mailrelay [options]</c> runs the relay, <c>mailrelay explain …</c> explains a route, <c>mailrelay send …</c> sends a test message.</summary>
public static class Program
{
    /// <summary>Parses the command line and runs the chosen command.</summary>
    public static Task<int> Main(string[] args) =>
        RelayCommandLine.Build(RunAsync, Explain, (request, ct) => TestMessageSender.SendAsync(request, Console.Out, ct)).Parse(args).InvokeAsync();

    private static async Task<int> RunAsync(RelayOptions options, CancellationToken ct)
    {
        using var host = RelayHost.Build(options);
        await host.StartAsync(ct);
        await host.WaitForShutdownAsync(ct);
        return 0;
    }

    private static int Explain(ExplainRequest request)
    {
        RoutingTable table;
        try
        {
            table = RoutingTableYaml.Parse(RelayConfigLoader.ReadTable(request.RoutesFile));
            if (request.CredentialsDir is { } dir)
            {
                table = RelayConfigLoader.FailClosed(table, CredentialSet.Load(dir)); // what the relay itself would hold
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            Console.Error.WriteLine($"error: cannot read '{request.RoutesFile}': {e.Message}");
            return 2;
        }
        catch (RoutingTableException e)
        {
            Console.Error.WriteLine($"error: {request.RoutesFile}: {string.Join(Environment.NewLine + "  ", e.Errors)}");
            return 2;
        }
        catch (RoutingTablePartsException e)
        {
            Console.Error.WriteLine($"error: {request.RoutesFile}: the split table does not join: {e.Message}");
            return 2;
        }

        try
        {
            var sender = EnvelopeAddress.Parse(request.From);
            var recipients = request.To.Select(EnvelopeAddress.Parse).ToList();
            var resolver = new RouteResolver(new RouteIndex(table), request.DefaultAction);
            Console.Write(ExplainReport.Format(resolver, sender, recipients));
            return 0;
        }
        catch (PatternException e)
        {
            Console.Error.WriteLine("error: " + e.Message);
            return 2;
        }
    }
}
