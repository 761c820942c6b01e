using System.Net;
using System.Security.Cryptography;
using System.Text;

namespace MailRelay.Relay.Config;

/// <summary>
/// The credentials of the mounted Secret: for a credential NAME, files <c>NAME.username</c> and
/// <c>NAME.password</c>. Never printed: <see cref="ToString"/> names the credentials only.
/// </summary>
public sealed class CredentialSet
{
    /// <summary>Suffix of the username file.</summary>
    public const string UsernameSuffix = ".username";

    /// <summary>Suffix of the password file.</summary>
    public const string PasswordSuffix = ".password";

    private readonly IReadOnlyDictionary<string, NetworkCredential> _byName;

    private CredentialSet(IReadOnlyDictionary<string, NetworkCredential> byName, string fingerprint)
    {
        _byName = byName;
        Fingerprint = fingerprint;
    }

    /// <summary>No credentials.</summary>
    public static CredentialSet Empty { get; } = new(new Dictionary<string, NetworkCredential>(), "empty");

    /// <summary>A hash of the contents, to tell whether anything changed (never the contents).</summary>
    public string Fingerprint { get; }

    /// <summary>Reads a directory as the kubelet mounts a Secret (hidden <c>..data</c> entries are skipped). A missing directory is empty.</summary>
    public static CredentialSet Load(string directory)
    {
        if (!Directory.Exists(directory))
        {
            return Empty;
        }

        var files = new SortedDictionary<string, string>(StringComparer.Ordinal);
        foreach (var path in Directory.EnumerateFiles(directory))
        {
            var name = Path.GetFileName(path);
            if (!name.StartsWith('.') && (name.EndsWith(UsernameSuffix, StringComparison.Ordinal) || name.EndsWith(PasswordSuffix, StringComparison.Ordinal)))
            {
                files[name] = File.ReadAllText(path).TrimEnd('\r', '\n');
            }
        }

        var byName = new Dictionary<string, NetworkCredential>(StringComparer.Ordinal);
        foreach (var (file, user) in files)
        {
            if (!file.EndsWith(UsernameSuffix, StringComparison.Ordinal))
            {
                continue;
            }

            var name = file[..^UsernameSuffix.Length];
            if (files.TryGetValue(name + PasswordSuffix, out var password))
            {
                byName[name] = new NetworkCredential(user, password);
            }
        }

        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        foreach (var (file, content) in files)
        {
            hash.AppendData(Encoding.UTF8.GetBytes(file + "\0" + content + "\0"));
        }

        return new CredentialSet(byName, Convert.ToHexStringLower(hash.GetHashAndReset()));
    }

    /// <summary>The credential called <paramref name="name"/>, or null.</summary>
    public NetworkCredential? Find(string name) => _byName.GetValueOrDefault(name);

    /// <summary>Names only, never secrets.</summary>
    public override string ToString() => $"credentials [{string.Join(", ", _byName.Keys.Order(StringComparer.Ordinal))}]";
}
