namespace MailRelay.EndToEnd.Tests.Peers;

/// <summary>
/// Writes a ConfigMap's or Secret's data into a directory the way the kubelet mounts it: the files
/// live in a timestamped hidden directory, <c>..data</c> is a symlink to it swapped atomically on
/// update, and each key is a symlink <c>KEY -> ..data/KEY</c>.
/// </summary>
public static class KubeletVolume
{
    public static void Write(string dir, IDictionary<string, byte[]> data)
    {
        Directory.CreateDirectory(dir);
        var stamp = Path.Combine(dir, $"..{DateTime.UtcNow:yyyy_MM_dd_HH_mm_ss.fffffff}");
        Directory.CreateDirectory(stamp);
        foreach (var (key, value) in data)
        {
            File.WriteAllBytes(Path.Combine(stamp, key), value);
        }

        var tmp = Path.Combine(dir, "..data_tmp");
        if (new FileInfo(tmp).LinkTarget is not null)
        {
            File.Delete(tmp);
        }

        File.CreateSymbolicLink(tmp, Path.GetFileName(stamp));
        if (Rename(tmp, Path.Combine(dir, "..data")) != 0) // rename(2) of the symlink itself: atomic
        {
            throw new IOException("rename of ..data failed");
        }
        foreach (var key in data.Keys)
        {
            var link = Path.Combine(dir, key);
            if (new FileInfo(link).LinkTarget is null)
            {
                File.CreateSymbolicLink(link, Path.Combine("..data", key));
            }
        }

        foreach (var stale in Directory.GetFiles(dir).Where(f => !Path.GetFileName(f).StartsWith("..", StringComparison.Ordinal) && !data.ContainsKey(Path.GetFileName(f))))
        {
            File.Delete(stale); // keys that left the ConfigMap/Secret
        }

        foreach (var old in Directory.GetDirectories(dir, "..*").Where(d => d != stamp && new DirectoryInfo(d).LinkTarget is null))
        {
            Directory.Delete(old, recursive: true);
        }
    }

    [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "rename", SetLastError = true)]
    private static extern int Rename(string from, string to);
}
