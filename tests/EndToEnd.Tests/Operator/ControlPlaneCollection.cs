using MailRelay.EndToEnd.Tests.Peers;

namespace MailRelay.EndToEnd.Tests.Operator;

/// <summary>One control plane for every test class that needs one (started once, stopped at the end).</summary>
[CollectionDefinition(Name)]
public sealed class ControlPlaneCollection : ICollectionFixture<ControlPlane>
{
    public const string Name = "control-plane";
}
