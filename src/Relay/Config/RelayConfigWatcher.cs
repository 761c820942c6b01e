using MailRelay.Relay.Cli;
using Microsoft.Extensions.Hosting;

namespace MailRelay.Relay.Config;

/// <summary>
/// Re-reads the routes and credentials when they change. Kubernetes swaps mounted ConfigMaps and
/// Secrets by an atomic symlink rename (<c>..data</c>), so the directories are watched (not the
/// file inodes), and polled as well, since watch events are not guaranteed on every volume.
/// </summary>
public sealed class RelayConfigWatcher(RelayOptions options, RelayConfigStore store, ClientTableStore clients) : BackgroundService
{
    private readonly SemaphoreSlim _changed = new(0);

    /// <inheritdoc />
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var routesWatcher = Watch(Path.GetDirectoryName(Path.GetFullPath(options.RoutesFile)));
        using var credentialsWatcher = Watch(options.CredentialsDir);
        using var clientsWatcher = options.ClientsFile is { } clientsFile ? Watch(Path.GetDirectoryName(Path.GetFullPath(clientsFile))) : null;
        while (!stoppingToken.IsCancellationRequested)
        {
            store.Reload();
            clients.Reload();
            try
            {
                await _changed.WaitAsync(options.ReloadInterval, stoppingToken);
                await Task.Delay(TimeSpan.FromMilliseconds(50), stoppingToken); // let a burst of events settle
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    private FileSystemWatcher? Watch(string? directory)
    {
        if (directory is null || !Directory.Exists(directory))
        {
            return null;
        }

        var watcher = new FileSystemWatcher(directory) { IncludeSubdirectories = false, EnableRaisingEvents = true };
        watcher.Changed += (_, _) => Signal();
        watcher.Created += (_, _) => Signal();
        watcher.Renamed += (_, _) => Signal();
        watcher.Deleted += (_, _) => Signal();
        return watcher;
    }

    private void Signal()
    {
        if (_changed.CurrentCount == 0)
        {
            _changed.Release();
        }
    }
}
