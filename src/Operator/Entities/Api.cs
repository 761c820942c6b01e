namespace MailRelay.Operator.Entities;

/// <summary>The API group and version of the custom resources.</summary>
public static class Api
{
    public const string Group = "mailrelay.io";

    public const string Version = "v1alpha1";

    public const string GroupVersion = Group + "/" + Version;
}

/// <summary>Condition types of MailRoute and RelayCredential.</summary>
public static class ConditionTypes
{
    /// <summary>MailRoute: the spec is valid, its credential resolved, and it conflicts with nothing older.</summary>
    public const string Accepted = "Accepted";

    /// <summary>MailRoute: the route is in the config the relay pods carry.</summary>
    public const string Programmed = "Programmed";

    /// <summary>RelayCredential: the Secret and its keys were found. MailDomain: the grant is in effect.</summary>
    public const string Ready = "Ready";
}

/// <summary>Condition reasons (docs/api.md).</summary>
public static class ConditionReasons
{
    /// <summary>Accepted=True.</summary>
    public const string Accepted = "Accepted";

    /// <summary>The spec breaks a rule the schema cannot express.</summary>
    public const string InvalidSpec = "InvalidSpec";

    /// <summary>The referenced RelayCredential, or the Secret it names, does not exist.</summary>
    public const string CredentialNotFound = "CredentialNotFound";

    /// <summary>The referenced RelayCredential's Secret lacks the username or password key.</summary>
    public const string CredentialNotReady = "CredentialNotReady";

    /// <summary>An older route claims the same sender/recipient patterns at the same priority.</summary>
    public const string Conflicted = "Conflicted";

    /// <summary>A sender pattern outside the MailDomains granted to the route's namespace (and the namespace is not trusted).</summary>
    public const string NotPermitted = "NotPermitted";

    /// <summary>Programmed=True.</summary>
    public const string Programmed = "Programmed";

    /// <summary>
    /// Programmed=True for a route kept in the relay config with the hold action: its credential is
    /// missing or incomplete, so its mail is accepted and queued, and waits until the credential is back.
    /// </summary>
    public const string Held = "Held";

    /// <summary>
    /// Programmed=False: the routing table with this route could not be written (too large for
    /// --routes-max-parts, or the API server refused it); the relay keeps the last good table.
    /// </summary>
    public const string TableNotWritten = "TableNotWritten";

    /// <summary>Programmed=False because Accepted is False.</summary>
    public const string NotAccepted = "NotAccepted";

    /// <summary>Programmed=False because the relay workload does not exist (an addition to docs/api.md's reasons).</summary>
    public const string RelayWorkloadNotFound = "RelayWorkloadNotFound";

    /// <summary>RelayCredential Ready=True.</summary>
    public const string Resolved = "Resolved";

    /// <summary>The referenced Secret does not exist.</summary>
    public const string SecretNotFound = "SecretNotFound";

    /// <summary>The Secret lacks the username or password key.</summary>
    public const string KeyMissing = "KeyMissing";

    /// <summary>render/explain only: the Secret is not among the files (managed elsewhere); the credential is programmed as if present.</summary>
    public const string SecretExternal = "SecretExternal";

    /// <summary>MailDomain Ready=True: the grant is in effect.</summary>
    public const string Ready = "Ready";

    /// <summary>MailDomain Ready=False: an older MailDomain covers the same domain; this one grants nothing.</summary>
    public const string Overlapping = "Overlapping";

    /// <summary>
    /// A Warning Event (the route stays accepted): <c>tls: Encrypt</c> with a credential hands the
    /// password to any TLS peer, since the certificate is not verified.
    /// </summary>
    public const string InsecureCredential = "InsecureCredential";
}
