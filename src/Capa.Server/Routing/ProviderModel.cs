namespace Capa.Server.Routing;

/// <summary>A model a provider serves.</summary>
/// <param name="Id">The model id clients send, e.g. <c>onnx-community/Qwen2.5-0.5B-Instruct</c> (may contain slashes).</param>
/// <param name="Capabilities">What the model can do.</param>
public sealed record ProviderModel(string Id, ModelCapabilities Capabilities)
{
    /// <summary>The <c>owned_by</c> field of the model object.</summary>
    public string OwnedBy { get; init; } = "capa";

    /// <summary>Unix seconds for the <c>created</c> field (for local models, when the model was installed).</summary>
    public long Created { get; init; }
}
