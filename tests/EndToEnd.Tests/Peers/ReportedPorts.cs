using System.Globalization;
using System.Text.RegularExpressions;

namespace MailRelay.EndToEnd.Tests.Peers;

/// <summary>The log lines in which the relay and the operator report the ports they bound (the tests start them on port 0).</summary>
public static class ReportedPorts
{
    /// <summary>The relay's SMTP listener: <c>SMTP listening on 127.0.0.1:41234 ...</c>.</summary>
    public static readonly Regex Smtp = new(@"SMTP listening on [^ ]*:(?<port>\d+)");

    /// <summary>The HTTP endpoint (metrics, health) of either program: <c>HTTP listening on http://127.0.0.1:41235 ...</c>.</summary>
    public static readonly Regex Http = new(@"HTTP listening on http://[^ ]*:(?<port>\d+)");

    /// <summary>Waits for <paramref name="line"/> in the output of <paramref name="process"/> and returns its port.</summary>
    public static async Task<int> ReadAsync(PeerProcess process, Regex line)
    {
        var match = await Eventually.UntilAsync($"{process.Name} to report its port ({line})", () => line.Match(process.Output), m => m.Success,
            TimeSpan.FromSeconds(60), () => "Output:\n" + process.Output, abandon: () => !process.Running);
        return int.Parse(match.Groups["port"].Value, CultureInfo.InvariantCulture);
    }
}
