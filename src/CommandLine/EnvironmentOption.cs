using System.CommandLine;
using MailRelay.Contracts.Cli;

namespace MailRelay.CommandLine;

/// <summary>A text option whose default is its <c>MAILRELAY_*</c> variable, else <paramref name="fallback"/> (both programs).</summary>
public static class EnvironmentOption
{
    /// <summary>Creates the option; its help names the variable.</summary>
    public static Option<string?> Text(string name, string? fallback, string help) => new(name)
    {
        Description = $"{help} [env {EnvironmentDefaults.VariableFor(name)}]",
        DefaultValueFactory = _ => EnvironmentDefaults.Get(name, fallback),
    };
}
