namespace MailRelay.EndToEnd.Tests.Peers;

/// <summary>The peers a test started, stopped in reverse order when the test ends.</summary>
public sealed class PeerSet : IDisposable
{
    private readonly List<IDisposable> _peers = [];

    /// <summary>Registers a peer and returns it.</summary>
    public T Keep<T>(T peer)
        where T : IDisposable
    {
        _peers.Add(peer);
        return peer;
    }

    /// <inheritdoc />
    public void Dispose()
    {
        foreach (var peer in Enumerable.Reverse(_peers))
        {
            peer.Dispose();
        }

        _peers.Clear();
    }
}
