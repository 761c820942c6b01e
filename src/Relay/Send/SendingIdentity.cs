using System.Globalization;

namespace MailRelay.Relay.Send;

/// <summary>
/// A namespace's sending identity as the operator writes it (the <c>mail-relay-smtp</c> Secret, mounted as a
/// directory: one file a key): where the relay listens, the SMTP AUTH user and password, and the CA that
/// issued the relay's certificate.
/// </summary>
public sealed record SendingIdentity(string Host, int Port, string Username, string Password, string CaFile)
{
    /// <summary>Reads the identity's files; a missing or empty key is an error naming it (never its value).</summary>
    public static SendingIdentity Load(string dir)
    {
        string Key(string key)
        {
            var file = Path.Combine(dir, key);
            var text = File.Exists(file) ? File.ReadAllText(file).Trim() : "";
            return text.Length > 0 ? text : throw new InvalidDataException($"{file}: missing or empty (the key '{key}' of the mail-relay-smtp Secret)");
        }

        var port = Key("port");
        if (!int.TryParse(port, NumberStyles.None, CultureInfo.InvariantCulture, out var p) || p is < 1 or > 65535)
        {
            throw new InvalidDataException($"{Path.Combine(dir, "port")}: '{port}' is not a port");
        }

        _ = Key("ca.crt");
        return new SendingIdentity(Key("host"), p, Key("username"), Key("password"), Path.Combine(dir, "ca.crt"));
    }
}
