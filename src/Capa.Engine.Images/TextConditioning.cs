using System.Globalization;
using Capa.Tokenizers.Clip;
using Microsoft.ML.OnnxRuntime;

namespace Capa.Engine.Images;

/// <summary>
/// What the UNet reads about the prompt for one image: the encoder hidden states and the values of the further inputs the
/// strategy declares (<see cref="TextConditioning.AddedInputs"/>, in that order).
/// </summary>
internal sealed record PromptConditioning(float[] Hidden, long[] HiddenShape, IReadOnlyList<float[]> Added);

/// <summary>A UNet input beside <c>sample</c>, <c>timestep</c> and <c>encoder_hidden_states</c>: [batch, <paramref name="Length"/>].</summary>
internal sealed record AddedUnetInput(string Name, NodeMetadata Meta, int Length);

/// <summary>
/// How a pipeline turns prompts into UNet conditioning: one CLIP encoder's last hidden state (SD 1.x, 2.x, Turbo), or
/// SDXL's two encoders with pooled text embeddings and time ids.
/// </summary>
internal abstract class TextConditioning : IDisposable
{
    /// <summary>The UNet inputs this conditioning fills beside <c>encoder_hidden_states</c>.</summary>
    public abstract IReadOnlyList<AddedUnetInput> AddedInputs { get; }

    /// <summary>The conditioning of a prompt (<paramref name="prompt2"/>: the second encoder's, null for the same) at a generation size.</summary>
    public abstract PromptConditioning Encode(string prompt, string? prompt2, int width, int height, RunOptions runOptions, out int textTokens);

    /// <summary>The unconditional conditioning for classifier-free guidance (<paramref name="negativePrompt"/> empty for none).</summary>
    public abstract PromptConditioning EncodeNegative(string negativePrompt, PromptConditioning positive, int width, int height, RunOptions runOptions);

    /// <summary>Prompt tokens the first encoder reads.</summary>
    public abstract int CountPromptTokens(string prompt);

    /// <inheritdoc />
    public abstract void Dispose();

    /// <summary>The strategy <paramref name="folder"/> and its UNet call for; refuses a folder whose parts do not fit each other.</summary>
    public static TextConditioning Create(DiffusionModelFolder folder, InferenceSession textEncoder, InferenceSession? textEncoder2, InferenceSession unet)
    {
        bool xlUnet = unet.InputMetadata.ContainsKey("text_embeds") || unet.InputMetadata.ContainsKey("time_ids");
        if (folder.IsXl != xlUnet || (textEncoder2 is null) == folder.IsXl)
        {
            throw new DiffusionModelException(xlUnet
                ? $"'{folder.UnetPath}' is an SDXL UNet (text_embeds, time_ids), but '{folder.Directory}' has no text_encoder_2/ and tokenizer_2/."
                : $"'{folder.Directory}' has a second text encoder (SDXL), but '{folder.UnetPath}' has no text_embeds and time_ids inputs.");
        }

        return folder.IsXl
            ? new XlConditioning(folder, textEncoder, textEncoder2!, unet)
            : new ClipConditioning(folder.Tokenizer, textEncoder);
    }

    protected static (float[] Data, long[] Shape) RunEncoder(InferenceSession session, string idsInput, int[] ids, string output, RunOptions runOptions)
    {
        using OrtValue input = OnnxTensors.Ids(session.InputMetadata[idsInput], ids, [1, ids.Length]);
        using IDisposableReadOnlyCollection<OrtValue> outputs = session.Run(runOptions, [idsInput], [input], [output]);
        return OnnxTensors.Read(outputs[0]);
    }

    protected static (float[] First, float[] Second) RunEncoder(InferenceSession session, string idsInput, int[] ids, string first, string second, RunOptions runOptions, out long[] firstShape)
    {
        using OrtValue input = OnnxTensors.Ids(session.InputMetadata[idsInput], ids, [1, ids.Length]);
        using IDisposableReadOnlyCollection<OrtValue> outputs = session.Run(runOptions, [idsInput], [input], [first, second]);
        (float[] a, firstShape) = OnnxTensors.Read(outputs[0]);
        return (a, OnnxTensors.Read(outputs[1]).Data);
    }

    protected static string IdsInput(InferenceSession session) =>
        session.InputMetadata.ContainsKey("input_ids") ? "input_ids" : session.InputMetadata.Keys.First();
}

/// <summary>SD 1.x / 2.x / Turbo: one CLIP encoder; the UNet reads its last hidden state.</summary>
internal sealed class ClipConditioning : TextConditioning
{
    private readonly ClipTokenizer _tokenizer;
    private readonly InferenceSession _encoder;
    private readonly string _idsInput;
    private readonly string _hiddenOutput;

    public ClipConditioning(ClipTokenizer tokenizer, InferenceSession encoder)
    {
        _tokenizer = tokenizer;
        _encoder = encoder;
        _idsInput = IdsInput(encoder);
        _hiddenOutput = encoder.OutputMetadata.ContainsKey("last_hidden_state") ? "last_hidden_state" : encoder.OutputMetadata.Keys.First();
    }

    public override IReadOnlyList<AddedUnetInput> AddedInputs => [];

    public override PromptConditioning Encode(string prompt, string? prompt2, int width, int height, RunOptions runOptions, out int textTokens)
    {
        int[] ids = _tokenizer.EncodePadded(prompt, out textTokens);
        (float[] hidden, long[] shape) = RunEncoder(_encoder, _idsInput, ids, _hiddenOutput, runOptions);
        return new PromptConditioning(hidden, shape, []);
    }

    public override PromptConditioning EncodeNegative(string negativePrompt, PromptConditioning positive, int width, int height, RunOptions runOptions) =>
        Encode(negativePrompt, null, width, height, runOptions, out _);

    public override int CountPromptTokens(string prompt)
    {
        _tokenizer.EncodePadded(prompt, out int tokens);
        return tokens;
    }

    public override void Dispose() => _encoder.Dispose();
}

/// <summary>
/// SDXL (diffusers' <c>StableDiffusionXLPipeline.encode_prompt</c>, Optimum's ONNX pipeline): the UNet's
/// <c>encoder_hidden_states</c> are the penultimate hidden states of both encoders (<c>hidden_states[-2]</c>: the outputs
/// <c>hidden_states.0</c> … <c>hidden_states.N</c> hold the embeddings and each layer's output) concatenated per token;
/// <c>text_embeds</c> is the second encoder's projected pooled output; <c>time_ids</c> are (height, width, crop top, crop
/// left, target height, target width), or with <c>requires_aesthetics_score</c> (height, width, top, left, score).
/// Unconditional embeddings for an empty negative prompt are zeros when the model says <c>force_zeros_for_empty_prompt</c>.
/// </summary>
internal sealed class XlConditioning : TextConditioning
{
    /// <summary>diffusers' default aesthetic scores (refiner): 6 for the prompt, 2.5 for the negative.</summary>
    private const float AestheticScore = 6f;
    private const float NegativeAestheticScore = 2.5f;

    private readonly DiffusionModelFolder _folder;
    private readonly InferenceSession _encoder1;
    private readonly InferenceSession _encoder2;
    private readonly string _ids1;
    private readonly string _ids2;
    private readonly string _hidden1;
    private readonly string _hidden2;
    private readonly string _pooled2;
    private readonly AddedUnetInput[] _added;

    public XlConditioning(DiffusionModelFolder folder, InferenceSession encoder1, InferenceSession encoder2, InferenceSession unet)
    {
        _folder = folder;
        _encoder1 = encoder1;
        _encoder2 = encoder2;
        _ids1 = IdsInput(encoder1);
        _ids2 = IdsInput(encoder2);
        _hidden1 = Penultimate(encoder1, folder.TextEncoderPath);
        _hidden2 = Penultimate(encoder2, folder.TextEncoder2Path!);
        if (!encoder2.OutputMetadata.ContainsKey("text_embeds"))
        {
            throw new DiffusionModelException(
                $"'{folder.TextEncoder2Path}' has no 'text_embeds' output; SDXL's second encoder is a CLIPTextModelWithProjection whose pooled, projected output the UNet reads.");
        }

        _pooled2 = "text_embeds";
        foreach (string name in new[] { "text_embeds", "time_ids" })
        {
            if (!unet.InputMetadata.ContainsKey(name))
            {
                throw new DiffusionModelException($"'{folder.UnetPath}' has no '{name}' input; an SDXL UNet reads text_embeds and time_ids.");
            }
        }

        int hidden = Width(encoder1.OutputMetadata[_hidden1]) is int a && Width(encoder2.OutputMetadata[_hidden2]) is int b ? a + b : -1;
        int context = Width(unet.InputMetadata["encoder_hidden_states"]) ?? -1;
        if (hidden > 0 && context > 0 && hidden != context)
        {
            throw new DiffusionModelException(
                $"'{folder.UnetPath}' reads encoder_hidden_states {context} wide, but the two text encoders give {hidden} together.");
        }

        int pooled = Width(encoder2.OutputMetadata[_pooled2]) ?? -1;
        NodeMetadata textEmbedsMeta = unet.InputMetadata["text_embeds"];
        int textEmbeds = Width(textEmbedsMeta) ?? pooled;
        if (pooled > 0 && textEmbeds != pooled)
        {
            throw new DiffusionModelException($"'{folder.UnetPath}' reads text_embeds {textEmbeds} wide, but text_encoder_2's text_embeds are {pooled}.");
        }

        if (textEmbeds <= 0)
        {
            throw new DiffusionModelException($"Neither '{folder.UnetPath}' nor '{folder.TextEncoder2Path}' declares the width of text_embeds.");
        }

        NodeMetadata timeIdsMeta = unet.InputMetadata["time_ids"];
        int timeIds = folder.RequiresAestheticsScore ? 5 : 6;
        if (Width(timeIdsMeta) is int declared && declared != timeIds)
        {
            throw new DiffusionModelException(
                $"'{folder.UnetPath}' reads {declared} time ids, but model_index.json's requires_aesthetics_score={folder.RequiresAestheticsScore.ToString().ToLowerInvariant()} gives {timeIds}.");
        }

        _added = [new AddedUnetInput("text_embeds", textEmbedsMeta, textEmbeds), new AddedUnetInput("time_ids", timeIdsMeta, timeIds)];
    }

    public override IReadOnlyList<AddedUnetInput> AddedInputs => _added;

    public override PromptConditioning Encode(string prompt, string? prompt2, int width, int height, RunOptions runOptions, out int textTokens)
    {
        int[] ids1 = _folder.Tokenizer.EncodePadded(prompt, out textTokens);
        int[] ids2 = _folder.Tokenizer2!.EncodePadded(prompt2 ?? prompt, out _);
        return EncodeIds(ids1, ids2, TimeIds(width, height, AestheticScore), runOptions);
    }

    public override PromptConditioning EncodeNegative(string negativePrompt, PromptConditioning positive, int width, int height, RunOptions runOptions)
    {
        float[] timeIds = TimeIds(width, height, NegativeAestheticScore);
        if (negativePrompt.Length == 0 && _folder.ForceZerosForEmptyPrompt)
        {
            return new PromptConditioning(new float[positive.Hidden.Length], positive.HiddenShape, [new float[positive.Added[0].Length], timeIds]);
        }

        int[] ids1 = _folder.Tokenizer.EncodePadded(negativePrompt, out _);
        int[] ids2 = _folder.Tokenizer2!.EncodePadded(negativePrompt, out _);
        return EncodeIds(ids1, ids2, timeIds, runOptions);
    }

    public override int CountPromptTokens(string prompt)
    {
        _folder.Tokenizer.EncodePadded(prompt, out int tokens);
        return tokens;
    }

    public override void Dispose()
    {
        _encoder1.Dispose();
        _encoder2.Dispose();
    }

    /// <summary>diffusers' <c>_get_add_time_ids</c> with the original and target size both the generation size and no crop.</summary>
    internal float[] TimeIds(int width, int height, float aestheticScore) => _folder.RequiresAestheticsScore
        ? [height, width, 0, 0, aestheticScore]
        : [height, width, 0, 0, height, width];

    private PromptConditioning EncodeIds(int[] ids1, int[] ids2, float[] timeIds, RunOptions runOptions)
    {
        (float[] h1, long[] shape1) = RunEncoder(_encoder1, _ids1, ids1, _hidden1, runOptions);
        (float[] h2, float[] pooled) = RunEncoder(_encoder2, _ids2, ids2, _hidden2, _pooled2, runOptions, out long[] shape2);
        if (shape1.Length != 3 || shape2.Length != 3 || shape1[1] != shape2[1])
        {
            throw new DiffusionModelException(
                $"The SDXL text encoders' hidden states do not line up: [{string.Join(", ", shape1)}] and [{string.Join(", ", shape2)}].");
        }

        // Per token: the first encoder's features, then the second's (torch.concat(prompt_embeds_list, dim=-1)).
        int tokens = (int)shape1[1], d1 = (int)shape1[2], d2 = (int)shape2[2];
        var hidden = new float[tokens * (d1 + d2)];
        for (int t = 0; t < tokens; t++)
        {
            h1.AsSpan(t * d1, d1).CopyTo(hidden.AsSpan(t * (d1 + d2)));
            h2.AsSpan(t * d2, d2).CopyTo(hidden.AsSpan((t * (d1 + d2)) + d1));
        }

        return new PromptConditioning(hidden, [1, tokens, d1 + d2], [pooled, timeIds]);
    }

    /// <summary>The output <c>hidden_states.{N − 1}</c> where N is the last: diffusers' <c>hidden_states[-2]</c>.</summary>
    private static string Penultimate(InferenceSession encoder, string path)
    {
        int last = -1;
        foreach (string name in encoder.OutputMetadata.Keys)
        {
            if (name.StartsWith("hidden_states.", StringComparison.Ordinal)
                && int.TryParse(name.AsSpan("hidden_states.".Length), NumberStyles.None, CultureInfo.InvariantCulture, out int index))
            {
                last = Math.Max(last, index);
            }
        }

        string penultimate = "hidden_states." + (last - 1).ToString(CultureInfo.InvariantCulture);
        if (last < 1 || !encoder.OutputMetadata.ContainsKey(penultimate))
        {
            throw new DiffusionModelException(
                $"'{path}' has no hidden_states.N outputs (or lacks {penultimate}); SDXL reads each encoder's penultimate layer, so the encoders must be exported with output_hidden_states.");
        }

        return penultimate;
    }

    /// <summary>The last dimension when the graph fixes it.</summary>
    private static int? Width(NodeMetadata meta) => meta.Dimensions.Length > 0 && meta.Dimensions[^1] > 0 ? meta.Dimensions[^1] : null;
}
