using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace MailRelay.Relay.Cli;

/// <summary>Parsers for option texts; each throws <see cref="ArgumentException"/> with the option's name and a reason.</summary>
public static class OptionValues
{
    /// <summary><c>ADDR:PORT</c>, <c>[v6]:PORT</c> or <c>:PORT</c> (all addresses); port 0 takes any free port, and the program logs the one it bound.</summary>
    public static IPEndPoint EndPoint(string option, string text)
    {
        var t = text.Trim();
        if (t.StartsWith(':'))
        {
            t = "0.0.0.0" + t;
        }

        if (IPEndPoint.TryParse(t, out var ep) && t.Contains(':') && (ep.AddressFamily == AddressFamily.InterNetwork || t.StartsWith('[')))
        {
            return ep;
        }

        var colon = t.LastIndexOf(':');
        if (colon > 0 && int.TryParse(t[(colon + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out var port) && port is >= 0 and <= 65535)
        {
            var host = t[..colon];
            var addresses = host == "localhost" ? [IPAddress.Loopback] : Dns.GetHostAddresses(host);
            if (addresses.Length > 0)
            {
                return new IPEndPoint(addresses[0], port);
            }
        }

        throw new ArgumentException($"{option}: '{text}' is not ADDRESS:PORT");
    }

    /// <summary>A comma-separated list of CIDRs; a bare address means that one host.</summary>
    public static IReadOnlyList<IPNetwork> Networks(string option, string text)
    {
        var result = new List<IPNetwork>();
        foreach (var part in text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (IPNetwork.TryParse(part, out var net))
            {
                result.Add(net);
            }
            else if (IPAddress.TryParse(part, out var ip))
            {
                result.Add(new IPNetwork(ip, ip.GetAddressBytes().Length * 8));
            }
            else
            {
                throw new ArgumentException($"{option}: '{part}' is not a CIDR such as 10.0.0.0/8");
            }
        }

        return result;
    }

    /// <summary>A whole number within a range.</summary>
    public static int Integer(string option, string text, int min, int max)
    {
        if (int.TryParse(text.Trim(), NumberStyles.Integer, CultureInfo.InvariantCulture, out var v) && v >= min && v <= max)
        {
            return v;
        }

        throw new ArgumentException($"{option}: '{text}' is not a whole number in {min}..{max}");
    }

    /// <summary>A size: bytes, or with a suffix k, m (binary multiples, like 25m = 25 MiB).</summary>
    public static int Size(string option, string text)
    {
        var t = text.Trim().ToLowerInvariant();
        var multiplier = 1L;
        if (t.EndsWith('k'))
        {
            multiplier = 1024;
            t = t[..^1];
        }
        else if (t.EndsWith('m'))
        {
            multiplier = 1024 * 1024;
            t = t[..^1];
        }

        if (long.TryParse(t, NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n * multiplier is > 0 and <= int.MaxValue)
        {
            return (int)(n * multiplier);
        }

        throw new ArgumentException($"{option}: '{text}' is not a size such as 26214400, 25m or 512k");
    }

    /// <summary>A duration: a number with a unit ms, s, m, h or d (a bare number is seconds).</summary>
    public static TimeSpan Duration(string option, string text)
    {
        var t = text.Trim().ToLowerInvariant();
        (string suffix, double seconds)[] units = [("ms", 0.001), ("s", 1), ("m", 60), ("h", 3600), ("d", 86400)];
        var factor = 1.0;
        foreach (var (suffix, seconds) in units)
        {
            if (t.EndsWith(suffix, StringComparison.Ordinal) && !(suffix == "s" && t.EndsWith("ms", StringComparison.Ordinal)))
            {
                factor = seconds;
                t = t[..^suffix.Length];
                break;
            }
        }

        if (double.TryParse(t, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var v) && v >= 0)
        {
            return TimeSpan.FromSeconds(v * factor);
        }

        throw new ArgumentException($"{option}: '{text}' is not a duration such as 300s, 5m or 1h");
    }
}
