namespace Capa.Server.Routing;

/// <summary>What a model can do; aliases resolve to a model with the capability they need.</summary>
[Flags]
public enum ModelCapabilities
{
    None = 0,

    /// <summary>Chat completions with text.</summary>
    Chat = 1 << 0,

    /// <summary>Images as input to chat (<c>image_url</c> parts).</summary>
    Vision = 1 << 1,

    /// <summary><c>response_format</c> json_object and json_schema.</summary>
    Json = 1 << 2,

    /// <summary>Function calling with <c>tools</c>.</summary>
    Tools = 1 << 3,

    /// <summary>Image generation.</summary>
    Image = 1 << 4,

    /// <summary>Text to speech.</summary>
    Speech = 1 << 5,

    /// <summary>Speech to text.</summary>
    Transcription = 1 << 6,

    /// <summary>Audio as input to chat (<c>input_audio</c> parts).</summary>
    AudioInput = 1 << 7,

    /// <summary>Audio as output of chat (<c>modalities: ["audio"]</c>, <c>audio</c>).</summary>
    AudioOutput = 1 << 8,

    /// <summary>Text embeddings (<c>/v1/embeddings</c>).</summary>
    Embeddings = 1 << 9,
}
