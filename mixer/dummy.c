typedef int chorus_mixer_placeholder;
