namespace MailRelay.Contracts.Cli;

/// <summary>
/// docs/api.md: every option can also be set by an environment variable <c>MAILRELAY_&lt;OPTION&gt;</c>
/// (upper case, dashes as underscores). A command-line value wins over the variable.
/// </summary>
public static class EnvironmentDefaults
{
    /// <summary>The variable for an option: <c>--allowed-networks</c> → <c>MAILRELAY_ALLOWED_NETWORKS</c>.</summary>
    public static string VariableFor(string option) =>
        "MAILRELAY_" + option.TrimStart('-').Replace('-', '_').ToUpperInvariant();

    /// <summary>The variable's value when set and not empty, else <paramref name="fallback"/>.</summary>
    public static string? Get(string option, string? fallback, Func<string, string?>? environment = null)
    {
        var value = (environment ?? Environment.GetEnvironmentVariable)(VariableFor(option));
        return string.IsNullOrEmpty(value) ? fallback : value;
    }
}
