namespace DistributedBackprop.Server.Hosting;

/// <summary>How a silo in a container finds and announces its address; bound from the <c>Hosting</c>
/// configuration section (environment: <c>Hosting__Kubernetes=true</c> and so on).</summary>
public sealed class ContainerHostingOptions
{
    public const string SectionName = "Hosting";

    /// <summary>Orleans Kubernetes hosting: the service and cluster ids come from the pod labels
    /// (<c>ORLEANS_SERVICE_ID</c>, <c>ORLEANS_CLUSTER_ID</c>), the silo name from <c>POD_NAME</c> and the
    /// advertised address from <c>POD_IP</c>, all set through the downward API; silos of deleted pods are
    /// declared dead at once.</summary>
    public bool Kubernetes { get; set; }

    /// <summary>The address other silos reach this one at, outside Kubernetes: an IP address, a host name
    /// (resolved at start), or <c>auto</c> for this host's first non-loopback IPv4 address (a container's own
    /// address). Null keeps the clustering's default (loopback).</summary>
    public string? AdvertisedAddress { get; set; }

    /// <summary>Every problem with these options, each naming the setting, its value and what is allowed.</summary>
    public IReadOnlyList<string> Validate()
    {
        var errors = new List<string>();
        if (Kubernetes && !string.IsNullOrWhiteSpace(AdvertisedAddress))
        {
            errors.Add($"{SectionName}:{nameof(AdvertisedAddress)} is '{AdvertisedAddress}' while "
                + $"{SectionName}:{nameof(Kubernetes)} is true; Kubernetes hosting advertises POD_IP, so unset one.");
        }

        if (Kubernetes && string.IsNullOrWhiteSpace(Environment.GetEnvironmentVariable("POD_IP")))
        {
            errors.Add($"{SectionName}:{nameof(Kubernetes)} is true but POD_IP is not set; set it from the "
                + "downward API (fieldRef status.podIP), as the chart does.");
        }

        return errors;
    }
}
