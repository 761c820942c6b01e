using k8s;
using MailRelay.Contracts.Patterns;
using MailRelay.Operator.Cli;
using MailRelay.Operator.DesiredState;
using MailRelay.Operator.Entities;
using MailRelay.Operator.Render;

namespace MailRelay.Operator;

/// <summary>
/// Entry point: <c>mailrelay-operator [options]</c> runs the controller; <c>render -f …</c> renders offline;
/// <c>explain</c> asks where a message would go, over resource files or the live cluster.
/// </summary>
public static class Program
{
    /// <summary>Parses the command line and runs the chosen command.</summary>
    public static Task<int> Main(string[] args) =>
        OperatorCommandLine.Build(OperatorHost.RunAsync, Render, ExplainAsync).Parse(args).InvokeAsync();

    /// <summary>Exit codes: 0 all accepted, 1 a resource not accepted or a file that is not resources this operator reads, 2 a path or an option that is wrong.</summary>
    private static int Render(RenderOptions options)
    {
        var (snapshot, failure) = Load(options.Files, options.TrustedNamespaces, secretsElsewhere: !options.RequireSecrets);
        if (snapshot is null)
        {
            return failure;
        }

        var desired = DesiredStateBuilder.Build(snapshot);
        Console.Write(RenderOutput.Format(desired, OperatorCommandLine.Default("--configmap-name")!, OperatorCommandLine.Default("--secret-name")!, options.Namespace, options.ShowSecrets));
        var invalid = desired.Domains.Where(v => !v.Ok).Select(v => $"invalid: MailDomain {v.Name}: {v.Reason}: {v.Message}")
            // A held route is not accepted either, but it is in the table: its mail waits for the credential.
            .Concat(desired.Routes.Where(v => !v.Ok).Concat(desired.Credentials.Where(v => !v.Ok)).Select(v => $"{(v.HoldReason is null ? "invalid" : "held")}: {v.Key}: {v.Reason}: {v.Message}"))
            .ToList();
        if (RoutesConfigMaps.For(desired, OperatorCommandLine.Default("--configmap-name")!, options.Namespace, RenderOutput.DefaultMaxParts).Error is { } tableError)
        {
            invalid.Add($"invalid: routing table: {tableError}");
        }

        foreach (var line in invalid)
        {
            Console.Error.WriteLine(line);
        }

        foreach (var v in desired.Credentials.Where(v => v.Reason == ConditionReasons.SecretExternal))
        {
            Console.Error.WriteLine($"note: {v.Key}: {v.Reason}: {v.Message} (render --require-secrets makes this an error)");
        }

        return invalid.Count == 0 ? 0 : 1;
    }

    private static async Task<int> ExplainAsync(ExplainOptions options, CancellationToken ct)
    {
        ClusterSnapshot snapshot;
        if (options.Files.Count > 0)
        {
            var (fromFiles, failure) = Load(options.Files, options.TrustedNamespaces, secretsElsewhere: true);
            if (fromFiles is null)
            {
                return failure;
            }

            snapshot = fromFiles;
        }
        else
        {
            try
            {
                using var client = new Kubernetes(OperatorHost.LoadConfig(options.Kubeconfig));
                snapshot = await LiveResources.LoadAsync(client, options.TrustedNamespaces, ct);
            }
            catch (Exception e) when (e is k8s.Autorest.HttpOperationException or HttpRequestException or k8s.Exceptions.KubeConfigException or IOException)
            {
                var detail = e is k8s.Autorest.HttpOperationException h ? $"{(int)h.Response.StatusCode} {h.Response.ReasonPhrase}: {h.Response.Content}" : e.Message;
                await Console.Error.WriteLineAsync("error: reading the cluster's resources: " + detail);
                return 1;
            }
        }

        try
        {
            Console.Write(ExplainOutput.Format(snapshot, options.From, options.To, options.DefaultAction));
            return 0;
        }
        catch (PatternException e)
        {
            await Console.Error.WriteLineAsync("error: " + e.Message);
            return 2;
        }
    }

    /// <summary>
    /// The resources of the files; else null after printing the error (the file and the problem) and the exit code:
    /// 2 for a path that does not exist or cannot be read, 1 for a file that is not resources this operator reads.
    /// </summary>
    private static (ClusterSnapshot? Snapshot, int Failure) Load(IReadOnlyList<string> files, IReadOnlySet<string> trusted, bool secretsElsewhere)
    {
        try
        {
            return (ResourceFiles.Load(files, trusted, secretsElsewhere), 0);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            Console.Error.WriteLine("error: " + e.Message);
            return (null, 2);
        }
        catch (InvalidDataException e)
        {
            Console.Error.WriteLine("error: " + e.Message);
            return (null, 1);
        }
    }
}
