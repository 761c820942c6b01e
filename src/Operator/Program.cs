using MailRelay.Operator.Cli;
using MailRelay.Operator.DesiredState;
using MailRelay.Operator.Render;

namespace MailRelay.Operator;

/// <summary>Entry point: <c>mailrelay-operator [options]</c> runs the controller; <c>render -f …</c> renders offline.</summary>
public static class Program
{
    /// <summary>Parses the command line and runs the chosen command.</summary>
    public static Task<int> Main(string[] args) =>
        OperatorCommandLine.Build(OperatorHost.RunAsync, Render).Parse(args).InvokeAsync();

    private static int Render(RenderOptions options)
    {
        ClusterSnapshot snapshot;
        try
        {
            snapshot = ResourceFiles.Load(options.Files, options.TrustedNamespaces);
        }
        catch (Exception e) when (e is IOException or InvalidDataException or UnauthorizedAccessException)
        {
            Console.Error.WriteLine("error: " + e.Message);
            return 2;
        }

        var desired = DesiredStateBuilder.Build(snapshot);
        Console.Write(RenderOutput.Format(desired, OperatorCommandLine.Default("--configmap-name")!, OperatorCommandLine.Default("--secret-name")!, options.Namespace, options.ShowSecrets));
        var invalid = desired.Domains.Where(v => !v.Ok).Select(v => $"invalid: MailDomain {v.Name}: {v.Reason}: {v.Message}")
            // A held route is not accepted either, but it is in the table: its mail waits for the credential.
            .Concat(desired.Routes.Where(v => !v.Ok).Concat(desired.Credentials.Where(v => !v.Ok)).Select(v => $"{(v.HoldReason is null ? "invalid" : "held")}: {v.Key}: {v.Reason}: {v.Message}"))
            .ToList();
        foreach (var line in invalid)
        {
            Console.Error.WriteLine(line);
        }

        return invalid.Count == 0 ? 0 : 1;
    }
}
