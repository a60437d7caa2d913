namespace Capa.TestModels;

/// <summary>A special or added token of a family's tokenizer.</summary>
internal sealed record FamilyToken(string Content, bool Special = true);

/// <summary>
/// The tokenizer and configuration conventions of one family, as its real checkpoints publish them: names,
/// special tokens (their order, not their real ids), chat template, generation defaults.
/// </summary>
internal sealed record TestModelFamily
{
    public required TestModelArch Arch { get; init; }
    public required string ModelType { get; init; }
    public required string Architecture { get; init; }
    public required string TemplateFamily { get; init; }
    public required string TokenizerClass { get; init; }
    public required string PreTokenizerPattern { get; init; }
    public bool NfcNormalizer { get; init; }

    /// <summary>Tokens numbered before the byte tokens (SentencePiece families put pad/eos/bos/unk first).</summary>
    public IReadOnlyList<FamilyToken> LeadingTokens { get; init; } = [];

    /// <summary>Tokens numbered after the learned merges.</summary>
    public required IReadOnlyList<FamilyToken> TrailingTokens { get; init; }

    public string? BosToken { get; init; }
    public required string EosToken { get; init; }
    public string? PadToken { get; init; }
    public string? UnkToken { get; init; }

    /// <summary>Whether encoding prepends <see cref="BosToken"/> (a TemplateProcessing post-processor).</summary>
    public bool AddBos { get; init; }

    /// <summary>config.json's eos_token_id: one token or several.</summary>
    public required IReadOnlyList<string> ConfigEos { get; init; }

    /// <summary>generation_config.json's eos_token_id list.</summary>
    public required IReadOnlyList<string> GenerationEos { get; init; }

    /// <summary>generation_config.json's sampling defaults, when the family ships them.</summary>
    public SamplingDefaults? Sampling { get; init; }

    public static TestModelFamily For(TestModelArch arch) => arch switch
    {
        TestModelArch.Qwen2 => Qwen2,
        TestModelArch.Llama => Llama,
        TestModelArch.Phi3 => Phi3,
        TestModelArch.Gemma => Gemma,
        _ => throw new ArgumentOutOfRangeException(nameof(arch)),
    };

    private static readonly TestModelFamily Qwen2 = new()
    {
        Arch = TestModelArch.Qwen2,
        ModelType = "qwen2",
        Architecture = "Qwen2ForCausalLM",
        TemplateFamily = "qwen2.5",
        TokenizerClass = "Qwen2Tokenizer",
        PreTokenizerPattern = ByteLevelBpe.QwenPattern,
        NfcNormalizer = true,
        TrailingTokens =
        [
            new("<|endoftext|>"), new("<|im_start|>"), new("<|im_end|>"), new("<|object_ref_start|>"),
            new("<|object_ref_end|>"), new("<|box_start|>"), new("<|box_end|>"), new("<|quad_start|>"),
            new("<|quad_end|>"), new("<|vision_start|>"), new("<|vision_end|>"), new("<|vision_pad|>"),
            new("<|image_pad|>"), new("<|video_pad|>"), new("<tool_call>", false), new("</tool_call>", false),
            new("<|fim_prefix|>", false), new("<|fim_middle|>", false), new("<|fim_suffix|>", false),
            new("<|fim_pad|>", false), new("<|repo_name|>", false), new("<|file_sep|>", false),
        ],
        EosToken = "<|im_end|>",
        PadToken = "<|endoftext|>",
        ConfigEos = ["<|im_end|>"],
        GenerationEos = ["<|im_end|>", "<|endoftext|>"],
        Sampling = new SamplingDefaults(true, 0.7, 0.8, 20, 1.05),
    };

    private static readonly TestModelFamily Llama = new()
    {
        Arch = TestModelArch.Llama,
        ModelType = "llama",
        Architecture = "LlamaForCausalLM",
        TemplateFamily = "llama3.2",
        TokenizerClass = "PreTrainedTokenizerFast",
        PreTokenizerPattern = ByteLevelBpe.Llama3Pattern,
        TrailingTokens =
        [
            new("<|begin_of_text|>"), new("<|end_of_text|>"), new("<|reserved_special_token_0|>"),
            new("<|reserved_special_token_1|>"), new("<|finetune_right_pad_id|>"), new("<|reserved_special_token_2|>"),
            new("<|start_header_id|>"), new("<|end_header_id|>"), new("<|eom_id|>"), new("<|eot_id|>"), new("<|python_tag|>"),
        ],
        BosToken = "<|begin_of_text|>",
        EosToken = "<|eot_id|>",
        AddBos = true,
        ConfigEos = ["<|end_of_text|>", "<|eom_id|>", "<|eot_id|>"],
        GenerationEos = ["<|end_of_text|>", "<|eom_id|>", "<|eot_id|>"],
        Sampling = new SamplingDefaults(true, 0.6, 0.9, null, null),
    };

    private static readonly TestModelFamily Phi3 = new()
    {
        Arch = TestModelArch.Phi3,
        ModelType = "phi3",
        Architecture = "Phi3ForCausalLM",
        TemplateFamily = "phi3.5",
        // The real Phi-3 tokenizer is SentencePiece; the test model is byte-level, which the fast class describes.
        TokenizerClass = "PreTrainedTokenizerFast",
        PreTokenizerPattern = ByteLevelBpe.QwenPattern,
        LeadingTokens = [new("<unk>"), new("<s>"), new("</s>")],
        TrailingTokens =
        [
            new("<|endoftext|>"), new("<|assistant|>"), new("<|placeholder1|>"), new("<|placeholder2|>"),
            new("<|placeholder3|>"), new("<|placeholder4|>"), new("<|system|>"), new("<|end|>"),
            new("<|placeholder5|>"), new("<|placeholder6|>"), new("<|user|>"),
        ],
        BosToken = "<s>",
        EosToken = "<|endoftext|>",
        PadToken = "<|endoftext|>",
        UnkToken = "<unk>",
        ConfigEos = ["<|endoftext|>"],
        GenerationEos = ["<|end|>", "<|assistant|>", "<|endoftext|>"],
    };

    private static readonly TestModelFamily Gemma = new()
    {
        Arch = TestModelArch.Gemma,
        ModelType = "gemma2",
        Architecture = "Gemma2ForCausalLM",
        TemplateFamily = "gemma2",
        TokenizerClass = "PreTrainedTokenizerFast",
        PreTokenizerPattern = ByteLevelBpe.QwenPattern,
        LeadingTokens = [new("<pad>"), new("<eos>"), new("<bos>"), new("<unk>")],
        TrailingTokens = [new("<mask>"), new("<start_of_turn>"), new("<end_of_turn>")],
        BosToken = "<bos>",
        EosToken = "<eos>",
        PadToken = "<pad>",
        UnkToken = "<unk>",
        AddBos = true,
        ConfigEos = ["<eos>", "<end_of_turn>"],
        GenerationEos = ["<eos>", "<end_of_turn>"],
    };
}

/// <summary>Sampling defaults of generation_config.json (null: the family does not ship the key).</summary>
internal sealed record SamplingDefaults(bool DoSample, double Temperature, double TopP, int? TopK, double? RepetitionPenalty);
