using System.Net.Sockets;
using System.Text;

namespace MailRelay.EndToEnd.Tests.Peers;

/// <summary>A scripted SMTP client on a bare socket: for what real clients will not do (stop mid-DATA, stay idle).</summary>
public sealed class RawSmtp : IDisposable
{
    private readonly TcpClient _tcp;
    private readonly StreamReader _reader;
    private readonly NetworkStream _stream;

    private RawSmtp(TcpClient tcp)
    {
        _tcp = tcp;
        _stream = tcp.GetStream();
        _reader = new StreamReader(_stream, Encoding.UTF8);
    }

    /// <summary>Connects to 127.0.0.1:<paramref name="port"/> and reads the greeting, which must be a 220.</summary>
    public static async Task<RawSmtp> ConnectAsync(int port, string from = "127.0.0.1")
    {
        var (client, greeting) = await OpenAsync(port, from);
        Assert.StartsWith("220", greeting);
        return client;
    }

    /// <summary>Connects from <paramref name="from"/> to 127.0.0.1:<paramref name="port"/>; returns the client and the first reply.</summary>
    public static async Task<(RawSmtp Client, string Greeting)> OpenAsync(int port, string from = "127.0.0.1")
    {
        var tcp = new TcpClient(new System.Net.IPEndPoint(System.Net.IPAddress.Parse(from), 0));
        await tcp.ConnectAsync("127.0.0.1", port);
        var client = new RawSmtp(tcp);
        return (client, await client.ReplyAsync());
    }

    /// <summary>Sends a command line and returns the reply, which must start with <paramref name="expected"/>.</summary>
    public async Task<string> CommandAsync(string line, string expected)
    {
        await SendAsync(line + "\r\n");
        var reply = await ReplyAsync();
        Assert.True(reply.StartsWith(expected, StringComparison.Ordinal), $"{line} -> {reply}");
        return reply;
    }

    /// <summary>MAIL FROM, one RCPT TO per recipient and DATA, each expected to succeed (250, 250, 354).</summary>
    public async Task BeginMessageAsync(string sender, params string[] recipients)
    {
        await CommandAsync($"MAIL FROM:<{sender}>", "250");
        foreach (var recipient in recipients)
        {
            await CommandAsync($"RCPT TO:<{recipient}>", "250");
        }

        await CommandAsync("DATA", "354");
    }

    /// <summary>Sends raw text.</summary>
    public async Task SendAsync(string text)
    {
        await _stream.WriteAsync(Encoding.UTF8.GetBytes(text));
        await _stream.FlushAsync();
    }

    /// <summary>Reads one (possibly multi-line) reply; empty when the server closed the connection.</summary>
    public async Task<string> ReplyAsync()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var reply = new StringBuilder();
        while (await _reader.ReadLineAsync(timeout.Token) is { } line)
        {
            reply.AppendLine(line);
            if (line.Length < 4 || line[3] != '-')
            {
                break;
            }
        }

        return reply.ToString();
    }

    /// <inheritdoc />
    public void Dispose() => _tcp.Dispose();
}
