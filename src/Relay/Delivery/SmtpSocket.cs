using System.Net;
using System.Net.Sockets;

namespace MailRelay.Relay.Delivery;

/// <summary>
/// Connected sockets for MailKit with Nagle's algorithm off: SMTP is a chatty request/response
/// protocol, and Nagle plus delayed ACKs otherwise stall every pipelined exchange by ~40 ms
/// (measured: 412 deliveries/s over 20 connections before, see bench/README.md).
/// </summary>
public static class SmtpSocket
{
    /// <summary>Connects to host:port (host may be a name or an address) within <paramref name="timeout"/>.</summary>
    public static async Task<Socket> ConnectAsync(string host, int port, TimeSpan timeout, CancellationToken ct)
    {
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(ct);
        cts.CancelAfter(timeout);
        var socket = IPAddress.TryParse(host, out var ip)
            ? new Socket(ip.AddressFamily, SocketType.Stream, ProtocolType.Tcp)
            : new Socket(SocketType.Stream, ProtocolType.Tcp);
        socket.NoDelay = true;
        try
        {
            if (ip is not null)
            {
                await socket.ConnectAsync(new IPEndPoint(ip, port), cts.Token);
            }
            else
            {
                await socket.ConnectAsync(new DnsEndPoint(host, port), cts.Token);
            }

            return socket;
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            socket.Dispose();
            throw new TimeoutException($"connecting to {host}:{port} timed out after {timeout.TotalSeconds:0} s");
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }
}
