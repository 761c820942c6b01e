namespace MailRelay.EndToEnd.Tests.Peers;

/// <summary>Where the repository, the built relay and the peer scripts are.</summary>
public static class TestPaths
{
    /// <summary>The checkout's root (the folder holding MailRelayOperator.sln).</summary>
    public static string RepoRoot { get; } = FindRoot();

    /// <summary>The build configuration the tests were built with.</summary>
    public static string Configuration { get; } = AppContext.BaseDirectory.Contains("/Release/", StringComparison.Ordinal) ? "Release" : "Debug";

    /// <summary>The relay program built alongside the tests.</summary>
    public static string RelayDll => Path.Combine(RepoRoot, "src", "Relay", "bin", Configuration, "net10.0", "mailrelay.dll");

    /// <summary>The operator program built alongside the tests.</summary>
    public static string OperatorDll => Path.Combine(RepoRoot, "src", "Operator", "bin", Configuration, "net10.0", "mailrelay-operator.dll");

    /// <summary>A peer script kept beside the peer classes (tests/EndToEnd.Tests/Peers).</summary>
    public static string Peer(string name) => Path.Combine(RepoRoot, "tests", "EndToEnd.Tests", "Peers", name);

    /// <summary>A fresh temporary directory, world-writable (smtp-sink drops privileges).</summary>
    public static string TempDir(string prefix)
    {
        var dir = Path.Combine(Path.GetTempPath(), "mailrelay-e2e", prefix + "-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(dir);
        File.SetUnixFileMode(dir, (UnixFileMode)0x1FF);
        return dir;
    }

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "MailRelayOperator.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException("cannot find MailRelayOperator.sln above " + AppContext.BaseDirectory);
    }
}
