using k8s;
using MailRelay.Operator.DesiredState;
using MailRelay.Operator.Entities;

namespace MailRelay.Operator;

/// <summary>
/// The operator's entry point. The controller (informers, reconcile, leader election) is issue 4
/// and not built yet; what exists is <c>validate -f FILE...</c>: the verdict on MailRoute files.
/// </summary>
public static class Program
{
    /// <summary>Runs the command.</summary>
    public static int Main(string[] args)
    {
        if (args.Length >= 3 && args[0] == "validate" && args[1] == "-f")
        {
            return Validate(args[2..]);
        }

        Console.Error.WriteLine("usage: mailrelay-operator validate -f FILE...   (validates MailRoute manifests)");
        Console.Error.WriteLine("The controller itself is not built yet; see README.md.");
        return 2;
    }

    private static int Validate(IEnumerable<string> files)
    {
        var invalid = 0;
        foreach (var file in files)
        {
            var objects = KubernetesYaml.LoadAllFromString(File.ReadAllText(file), new Dictionary<string, Type>
            {
                [Api.GroupVersion + "/MailRoute"] = typeof(MailRoute),
            });
            foreach (var route in objects.OfType<MailRoute>())
            {
                var (_, errors) = RouteSpecMapper.Map(route);
                var name = $"{route.Metadata.NamespaceProperty ?? "default"}/{route.Metadata.Name}";
                if (errors.Count == 0)
                {
                    Console.WriteLine($"{name}: valid");
                }
                else
                {
                    invalid++;
                    Console.WriteLine($"{name}: {ConditionReasons.InvalidSpec}: {string.Join("; ", errors)}");
                }
            }
        }

        return invalid == 0 ? 0 : 1;
    }
}
